// Who is signed in on this page: the platform's OpenID provider through the
// authorization code flow with PKCE, run here in the page, or, on a local
// platform, the development sign-in. The access token stays in this tab's
// sessionStorage and goes only to this origin's API.
"use strict";

const TOKEN_KEY = "eventos.token";
const FLOW_KEY = "eventos.sign-in";

const session = {
  /** The access token, while it has not expired. */
  token() {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const claims = token && claimsOf(token);
    if (!claims || claims.exp * 1000 <= Date.now()) {
      sessionStorage.removeItem(TOKEN_KEY);
      return null;
    }
    return token;
  },
  claims() {
    const token = this.token();
    return token ? claimsOf(token) : null;
  },
  signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
  },
};

/** A JWT's claims, read (not verified: the API verifies) to greet its holder. */
function claimsOf(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomText(bytes) {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

async function discover(issuer) {
  let response;
  try {
    response = await fetch(`${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`);
  } catch {
    throw new Error("The sign-in provider cannot be reached.");
  }
  if (!response.ok) throw new Error("The sign-in provider cannot be reached.");
  return response.json();
}

/** Leaves for the provider's login page; `finishProviderSignIn` takes over on the way back. */
async function startProviderSignIn(provider) {
  const config = await discover(provider.issuer);
  const verifier = randomText(48);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  const state = randomText(16);
  const redirectUri = `${location.origin}/`;
  sessionStorage.setItem(FLOW_KEY, JSON.stringify({
    verifier, state, redirectUri, tokenEndpoint: config.token_endpoint, clientId: provider.client_id,
  }));
  const url = new URL(config.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: "code", client_id: provider.client_id, redirect_uri: redirectUri, scope: "openid profile email",
    code_challenge: base64url(new Uint8Array(digest)), code_challenge_method: "S256", state,
  }).toString();
  location.assign(url.toString());
}

/** Back from the provider: trades the code for a token, once, and cleans the address bar. */
async function finishProviderSignIn() {
  const params = new URLSearchParams(location.search);
  if (!params.has("code") && !params.has("error")) return;
  const flow = JSON.parse(sessionStorage.getItem(FLOW_KEY) || "null");
  sessionStorage.removeItem(FLOW_KEY);
  history.replaceState(null, "", location.pathname);
  if (params.has("error")) throw new Error(`Sign-in failed: ${params.get("error_description") || params.get("error")}.`);
  if (!flow || params.get("state") !== flow.state) throw new Error("Sign-in failed: the answer does not match this page's request.");
  const response = await fetch(flow.tokenEndpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code", code: params.get("code"), redirect_uri: flow.redirectUri,
      client_id: flow.clientId, code_verifier: flow.verifier,
    }),
  }).catch(() => null);
  const data = response && await response.json().catch(() => null);
  if (!response || !response.ok || !data || !data.access_token) throw new Error("Sign-in failed: the provider granted no token.");
  sessionStorage.setItem(TOKEN_KEY, data.access_token);
}

async function developmentSignIn(name, roles) {
  const granted = await api("POST", "/api/status/sign-in/development", { name, roles });
  sessionStorage.setItem(TOKEN_KEY, granted.access_token);
}
