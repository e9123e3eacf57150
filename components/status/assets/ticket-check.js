// Checks a signed ticket code with an event's public keys alone, as
// docs/signed-tickets.md describes it: no network, the browser's own Ed25519.
"use strict";

const ticketCheck = (() => {
  const PREFIX = "E1.";
  const CLAIM_BYTES = 41;
  const CODE_BYTES = 105;
  const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

  /** Unpadded base64url, strictly: another alphabet, padding or length is no code. */
  function decode(text) {
    if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    let bytes;
    try {
      bytes = Uint8Array.from(atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4)), (c) => c.charCodeAt(0));
    } catch {
      return null;
    }
    return encode(bytes) === text ? bytes : null;
  }

  function encode(bytes) {
    return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function uuid(bytes) {
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  /** 40 bits as `TKT-XXXX-XXXX`. */
  function ticketCode(bytes) {
    let bits = 0n;
    for (const byte of bytes) bits = (bits << 8n) | BigInt(byte);
    let digits = "";
    for (let i = 7; i >= 0; i--) digits += CROCKFORD[Number((bits >> BigInt(i * 5)) & 31n)];
    return `TKT-${digits.slice(0, 4)}-${digits.slice(4)}`;
  }

  /** The keys document of `GET /api/tickets/events/{id}/signing-keys`, made ready to verify with. */
  async function importKeys(document) {
    const keys = new Map();
    for (const key of document.keys) {
      if (key.retired_at || key.algorithm !== "Ed25519") continue;
      const raw = decode(key.public_key);
      if (!raw || raw.length !== 32) continue;
      keys.set(key.key_id, await crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]));
    }
    return keys;
  }

  /**
   * What a door of `eventId`, holding `keys` (from importKeys) and the `revoked`
   * codes, makes of `text`: `{ ok: true, code }`, or `{ ok: false, reason }` with
   * reason `malformed`, `other-event`, `unknown-key`, `forged` or `revoked`.
   */
  async function check(text, eventId, keys, revoked) {
    const trimmed = text.trim();
    const bytes = trimmed.startsWith(PREFIX) ? decode(trimmed.slice(PREFIX.length)) : null;
    if (!bytes || bytes.length !== CODE_BYTES) return { ok: false, reason: "malformed" };
    const claim = bytes.subarray(0, CLAIM_BYTES);
    if (uuid(claim.subarray(4, 20)) !== eventId.toLowerCase()) return { ok: false, reason: "other-event" };
    const keyId = new DataView(claim.buffer, claim.byteOffset, 4).getInt32(0);
    const key = keys.get(keyId);
    if (!key) return { ok: false, reason: "unknown-key" };
    const message = new Uint8Array(PREFIX.length + CLAIM_BYTES);
    message.set(new TextEncoder().encode(PREFIX));
    message.set(claim, PREFIX.length);
    const genuine = await crypto.subtle.verify({ name: "Ed25519" }, key, bytes.subarray(CLAIM_BYTES), message);
    if (!genuine) return { ok: false, reason: "forged" };
    const code = ticketCode(claim.subarray(36, 41));
    if (revoked.has(code)) return { ok: false, reason: "revoked", code };
    return { ok: true, code };
  }

  return { importKeys, check };
})();
