// A real OpenID provider for the identity tests: the certified `oidc-provider`,
// shaped like the platform's Keycloak realm. Access tokens are RS256 JWTs for
// the audience `eventos`, carrying `realm_access.roles`, `email` and `name`.
// Its login page (the library's development interactions) signs in any login
// name; the login name's part before "+" is the person, and each "+role" after
// it grants that role (`grace+organizer+moderator`).
//
// usage: node oidc-provider.mjs <port>
// prints {"issuer", "jwks"} at once (the platform trusts them before it starts),
// then reads the status page's redirect URI as one line on stdin, listens, and
// prints {"listening": true}; stops when stdin closes.
import Provider from "oidc-provider";
import { generateKeyPairSync } from "node:crypto";
import { createInterface } from "node:readline";

const [port] = process.argv.slice(2);
if (!port) {
  console.error("usage: node oidc-provider.mjs <port>");
  process.exit(2);
}

const issuer = `http://127.0.0.1:${port}`;
const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const signing = { ...privateKey.export({ format: "jwk" }), kid: "oidc-provider-test", alg: "RS256", use: "sig" };
const ROLES = ["organizer", "moderator", "staff", "admin"];
// RFC 8707 wants the resource to be a URI; the tokens' audience is the platform's.
const RESOURCE = "urn:eventos";

function person(login) {
  const [name, ...roles] = String(login).split("+");
  return { name, email: `${name}@oidc.example`, roles: roles.filter((role) => ROLES.includes(role)) };
}

const jwks = { keys: [{ kty: signing.kty, n: signing.n, e: signing.e, kid: signing.kid, alg: "RS256", use: "sig" }] };
console.log(JSON.stringify({ issuer, jwks }));
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const redirectUri = (await lines.next()).value.trim();

const provider = new Provider(issuer, {
  clients: [
    // The status page: a public client, authorization code with PKCE.
    { client_id: "eventos-status", token_endpoint_auth_method: "none", redirect_uris: [redirectUri],
      grant_types: ["authorization_code"], response_types: ["code"] },
    // Scripts: client credentials, for tokens straight from the token endpoint;
    // the client is the person, `eventos-admin` an admin.
    { client_id: "eventos-script", client_secret: "eventos-script-secret", grant_types: ["client_credentials"],
      response_types: [], redirect_uris: [] },
    { client_id: "eventos-admin", client_secret: "eventos-admin-secret", grant_types: ["client_credentials"],
      response_types: [], redirect_uris: [] },
  ],
  jwks: { keys: [signing] },
  findAccount: (_ctx, id) => ({
    accountId: id,
    claims: () => ({ sub: id, email: person(id).email, name: person(id).name }),
  }),
  claims: { openid: ["sub"], email: ["email"], profile: ["name"] },
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: "openid profile email",
        audience: "eventos",
        accessTokenFormat: "jwt",
        jwt: { sign: { alg: "RS256" } },
      }),
    },
  },
  // Keycloak puts the realm's roles, the email and the name in access tokens.
  extraTokenClaims: (_ctx, token) => {
    const who = token.accountId ? person(token.accountId) : person(token.clientId === "eventos-admin" ? "eventos-admin+admin" : token.clientId);
    return { realm_access: { roles: who.roles }, email: who.email, name: who.name };
  },
  // Consent is the platform's own client's: granted without asking.
  loadExistingGrant: async (ctx) => {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope("openid profile email");
    grant.addResourceScope(RESOURCE, "openid profile email");
    await grant.save();
    return grant;
  },
  pkce: { required: () => true },
});
provider.proxy = false;

const server = provider.listen(Number(port), "127.0.0.1", () => console.log(JSON.stringify({ listening: true })));
// Whatever else arrives on stdin is ignored; its end is the end.
(async () => {
  while (!(await lines.next()).done);
  server.close(() => process.exit(0));
})();
