// A local OpenID provider for tokengate's interoperability tests (tests/interop/): panva's
// oidc-provider, an OpenID Certified implementation, issuing RFC 9068 JWT access tokens (and
// opaque ones, for introspection) through the client-credentials grant.
//
//   node tests/idp/server.mjs [--keys-without-alg]
//
// It listens on a free port on 127.0.0.1 (plain http: tokengate accepts that on loopback with
// `KeyCache::allow_http_loopback()`; oidc-provider needs no `proxy` or other setting for http,
// since it builds every URL it publishes from the issuer identifier, not from the request) and
// prints one JSON line on stdout once it is ready:
//
//   {"ready":true,"issuer":"http://127.0.0.1:PORT","port":PORT,"keys":[{"kid":..,"alg":..}, ...]}
//
// It exits when stdin closes, so that it never outlives the test process that started it, and
// on SIGTERM or SIGINT.
//
// What it issues:
// * resources (RFC 8707 resource indicators; the resource becomes `aud`):
//   `https://api.example.test/orders` (orders.read orders.write reports.read) and
//   `https://api.example.test/billing` (billing.read), both with the `jwt` access-token format,
//   and `https://api.example.test/inventory` (inventory.read inventory.write), whose access
//   tokens are `opaque`: random strings the provider keeps, which a resource server can only
//   understand by asking the introspection endpoint (RFC 7662, `/token/introspection`), and
//   which their client can revoke (RFC 7009, `/token/revocation`); a token asked for no
//   resource is opaque too (oidc-provider's default format), and has no `aud`;
// * confidential clients (CLIENTS below): `orders-service` (client_secret_basic) and
//   `reporting-job` (client_secret_post) get bearer tokens; `dpop-agent` gets only DPoP-bound
//   tokens (RFC 9449, `cnf.jkt`), and `mtls-agent` only certificate-bound ones (RFC 8705 §3,
//   `cnf["x5t#S256"]`, over the TLS listener below), both with client_secret_basic;
// * resource-server clients of the inventory API (RESOURCE_SERVERS below), which get no tokens
//   (no grant types) and may introspect only access tokens whose audience is their API
//   (`features.introspection.allowedPolicy`; oidc-provider's default would let every
//   confidential client introspect every token): `inventory-api` (client_secret_basic),
//   `inventory-api-post` (client_secret_post), `inventory-api-signed` (client_secret_basic, with
//   `introspection_signed_response_alg` ES256: asked with `Accept:
//   application/token-introspection+jwt`, its answers come as RFC 9701 JWTs,
//   `features.jwtIntrospection`) and, when the environment variable
//   INTEROP_INTROSPECTION_JWK holds a public JWK (made by the test), `inventory-api-jwt`
//   (private_key_jwt, RFC 7523, with that key as its `jwks`; the assertion's `aud` may be the
//   issuer, the token endpoint or the introspection endpoint). Any other client introspecting
//   gets `active: false`; a token is revoked only by the client it was issued to;
// * DPoP with server nonces required (a proof without one gets `use_dpop_nonce` and a
//   `DPoP-Nonce` header), proofs signed with ES256, ES384, PS256, RS256 or EdDSA;
// * with the environment variables INTEROP_TLS_CERT and INTEROP_TLS_KEY (a PEM certificate
//   and its key, made by the test), a second listener on 127.0.0.1 speaks TLS and asks for a
//   client certificate, any one (`rejectUnauthorized: false`: a bound token needs no CA,
//   RFC 8705 §2.2); the provider publishes its token endpoint there as the RFC 8705 §5
//   `mtls_endpoint_aliases`, and the ready line carries its port as `mtls_port`;
// * keys for RS256, PS256, ES256, ES384 and EdDSA, with RFC 7638 thumbprints as `kid`s; with
//   --keys-without-alg they are configured without `alg`, as oidc-provider's own development
//   keys are (it then publishes `alg` only for keys that fit a single algorithm: the EC ones);
// * extra claims in every access token (`extraTokenClaims`): `tenant`, `roles`, `env`, and
//   `marker`, a distinctive value new in each token (`claim-marker-` and 16 hex digits) that
//   the tests look for in tokengate's logs, where no claim value may appear.
//
// Test-only controls:
// * on a token request, the headers `x-interop-alg` (signing algorithm, default RS256),
//   `x-interop-kid` (signing key) and `x-interop-ttl` (lifetime in seconds, default 300) pick how
//   that one token is signed and how long it lives (they feed the resource-server information,
//   `jwt.sign` and `accessTokenTTL`), so tests running in parallel never disturb each other;
// * an admin API under /admin/ on the same loopback listener:
//     GET    /admin/keys        the signing keys: [{"kid","alg"}]
//     POST   /admin/keys?alg=X  generates a key for X and publishes it: {"kid","alg"}
//     DELETE /admin/keys/KID    withdraws a key
//     GET    /admin/stats       how many discovery, JWKS, token and introspection requests
//                               were served, and how many introspection answers were JWTs
//                               (`introspection_jwt`)
//   oidc-provider reads its `jwks` once, when a Provider is constructed; a key change builds a
//   new Provider with the new key set behind the same listener (same issuer, same clients), which
//   is how the library expects keys to change: by configuration, not by mutation.

import * as crypto from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import * as readline from 'node:readline';

let Provider;
let errors;
try {
  ({ default: Provider, errors } = await import('oidc-provider'));
} catch (error) {
  process.stderr.write(
    `tokengate interop: cannot load oidc-provider (${error.code ?? error.message}); `
      + 'run `npm ci` in tests/idp (or `bash tests/idp/run.sh`)\n',
  );
  process.exit(3);
}

const INVENTORY = 'https://api.example.test/inventory';

const RESOURCES = {
  'https://api.example.test/orders': 'orders.read orders.write reports.read',
  'https://api.example.test/billing': 'billing.read',
  [INVENTORY]: 'inventory.read inventory.write',
};

/** Resources whose access tokens are opaque (the others' are RFC 9068 JWTs). */
const OPAQUE_RESOURCES = new Set([INVENTORY]);

const CLIENTS = [
  {
    client_id: 'orders-service',
    client_secret: 'orders-service-secret-3f9c2a7e61d84b0c',
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'orders.read orders.write billing.read inventory.read inventory.write',
    // Read by extraTokenClaims.
    'x-roles': ['orders.admin'],
  },
  {
    client_id: 'reporting-job',
    client_secret: 'reporting-job-secret-8d1e5b2f07a94c63',
    token_endpoint_auth_method: 'client_secret_post',
    scope: 'orders.read reports.read',
    'x-roles': [],
  },
  {
    client_id: 'dpop-agent',
    client_secret: 'dpop-agent-secret-5a0e7c93b14f2d68',
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'orders.read',
    dpop_bound_access_tokens: true,
    'x-roles': [],
  },
  {
    client_id: 'mtls-agent',
    client_secret: 'mtls-agent-secret-c27b94e0d6a8513f',
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'orders.read',
    tls_client_certificate_bound_access_tokens: true,
    'x-roles': [],
  },
];

/**
 * Resource servers: clients that only introspect; `x-resource` is the resource whose access
 * tokens they may introspect.
 */
const INTROSPECTION_JWK = process.env.INTEROP_INTROSPECTION_JWK
  ? JSON.parse(process.env.INTEROP_INTROSPECTION_JWK)
  : undefined;
const RESOURCE_SERVERS = [
  {
    client_id: 'inventory-api',
    client_secret: 'inventory-api-secret-6b2d90f4e17a3c58',
    token_endpoint_auth_method: 'client_secret_basic',
    'x-resource': INVENTORY,
  },
  {
    client_id: 'inventory-api-post',
    client_secret: 'inventory-api-post-secret-0c8e3a5d9f264b71',
    token_endpoint_auth_method: 'client_secret_post',
    'x-resource': INVENTORY,
  },
  {
    client_id: 'inventory-api-signed',
    client_secret: 'inventory-api-signed-secret-9e4a1c7b2d58f063',
    token_endpoint_auth_method: 'client_secret_basic',
    introspection_signed_response_alg: 'ES256',
    'x-resource': INVENTORY,
  },
  ...(INTROSPECTION_JWK ? [{
    client_id: 'inventory-api-jwt',
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: INTROSPECTION_JWK.alg,
    jwks: { keys: [INTROSPECTION_JWK] },
    'x-resource': INVENTORY,
  }] : []),
];

const ALGORITHMS = ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'];
const DEFAULT_TTL = 300;
const KEYS_WITHOUT_ALG = process.argv.includes('--keys-without-alg');
const TLS = process.env.INTEROP_TLS_CERT && process.env.INTEROP_TLS_KEY
  ? { cert: process.env.INTEROP_TLS_CERT, key: process.env.INTEROP_TLS_KEY }
  : undefined;
// One secret for every Provider this process builds, so that a key change keeps nonces valid.
const DPOP_NONCE_SECRET = crypto.randomBytes(32);

/**
 * A new signing key for `alg`: `{ alg, jwk }`, the private JWK with its RFC 7638 thumbprint as
 * `kid`, and `alg` too unless the provider runs with --keys-without-alg.
 */
function generateKey(alg) {
  const [type, options] = {
    RS256: ['rsa', { modulusLength: 2048 }],
    PS256: ['rsa', { modulusLength: 2048 }],
    ES256: ['ec', { namedCurve: 'P-256' }],
    ES384: ['ec', { namedCurve: 'P-384' }],
    EdDSA: ['ed25519', {}],
  }[alg] ?? [];
  if (!type) throw new Error(`unsupported algorithm ${alg}`);
  // PEM made by the generating job, then a key object of our own: exporting a JWK straight
  // from generateKeyPairSync's key object can deadlock Node.js 20 (a garbage collection during
  // the export frees the finished job, which locks the key the export holds), which left the
  // provider hanging before its ready line, now and then, when tests ran in parallel.
  const { privateKey } = crypto.generateKeyPairSync(type, {
    ...options,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const jwk = crypto.createPrivateKey(privateKey).export({ format: 'jwk' });
  const members = {
    RSA: ['e', 'kty', 'n'],
    EC: ['crv', 'kty', 'x', 'y'],
    OKP: ['crv', 'kty', 'x'],
  }[jwk.kty];
  const canonical = JSON.stringify(Object.fromEntries(members.map((name) => [name, jwk[name]])));
  const kid = crypto.hash('sha256', canonical, 'base64url');
  const published = KEYS_WITHOUT_ALG ? { kid, use: 'sig' } : { kid, alg, use: 'sig' };
  return { alg, jwk: { ...jwk, ...published } };
}

/** The integer value of a header, or undefined. */
function headerNumber(ctx, name) {
  const value = ctx.get(name);
  if (!value) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) {
    throw new Error(`${name} must be a positive integer`);
  }
  return number;
}

function configuration(keys) {
  return {
    clients: [
      ...CLIENTS.map(({ 'x-roles': _, ...client }) => ({
        ...client,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
      })),
      ...RESOURCE_SERVERS.map(({ 'x-resource': _, ...client }) => ({
        ...client,
        grant_types: [],
        response_types: [],
        redirect_uris: [],
      })),
    ],
    jwks: { keys: keys.map((key) => key.jwk) },
    scopes: ['openid', ...new Set(Object.values(RESOURCES).join(' ').split(' '))],
    cookies: { keys: ['tokengate-interop-cookie-key'] },
    discovery: mtlsPort === undefined ? {} : {
      mtls_endpoint_aliases: { token_endpoint: `https://127.0.0.1:${mtlsPort}/token` },
    },
    // The default is ES256, Ed25519 and EdDSA; more key types test more thumbprints (cnf.jkt).
    enabledJWA: { dPoPSigningAlgValues: ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA'] },
    features: {
      // Nonces always required (RFC 9449 §8): every DPoP client must handle use_dpop_nonce.
      dPoP: { enabled: true, nonceSecret: DPOP_NONCE_SECRET, requireNonce: () => true },
      mTLS: {
        enabled: true,
        certificateBoundAccessTokens: true,
        // The certificate of the TLS connection (none on the plain listener).
        getCertificate: (ctx) => {
          const raw = ctx.socket.getPeerCertificate?.(true)?.raw;
          return raw ? new crypto.X509Certificate(raw) : undefined;
        },
      },
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // A resource server learns about the access tokens meant for it; nobody else learns
        // anything (`active: false`), not even the client a token was issued to.
        allowedPolicy: async (_ctx, client, token) => token.kind !== 'RefreshToken'
          && RESOURCE_SERVERS.some((server) => server.client_id === client.clientId
            && server['x-resource'] === token.aud),
      },
      // RFC 9701: a client with `introspection_signed_response_alg` that asks with `Accept:
      // application/token-introspection+jwt` gets its answer as a JWT signed with the
      // provider's key for that algorithm (header `typ` token-introspection+jwt, `iss` the
      // issuer, `aud` the client id, `iat`, the answer in `token_introspection`). The metadata
      // defaults to RS256 once the feature is on, so every client that asks gets a JWT; one
      // that asks for JSON (or sends no Accept) still gets the plain answer.
      jwtIntrospection: { enabled: true },
      revocation: {
        enabled: true,
        // The default's rule, without its warning: only the client a token was issued to.
        allowedPolicy: async (_ctx, client, token) => {
          if (token.clientId !== client.clientId) {
            throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
          }
          return true;
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => undefined,
        useGrantedResource: async () => false,
        getResourceServerInfo: async (ctx, resource) => {
          const scope = RESOURCES[resource];
          if (scope === undefined) {
            throw new errors.InvalidTarget('unknown resource');
          }
          const accessTokenTTL = headerNumber(ctx, 'x-interop-ttl') ?? DEFAULT_TTL;
          if (OPAQUE_RESOURCES.has(resource)) {
            return {
              scope, audience: resource, accessTokenFormat: 'opaque', accessTokenTTL,
            };
          }
          const alg = ctx.get('x-interop-alg') || 'RS256';
          const kid = ctx.get('x-interop-kid') || undefined;
          return {
            scope,
            audience: resource,
            accessTokenFormat: 'jwt',
            accessTokenTTL,
            jwt: { sign: { alg, kid } },
          };
        },
      },
    },
    extraTokenClaims: async (_ctx, token) => {
      const client = CLIENTS.find((c) => c.client_id === token.clientId);
      return {
        tenant: 'tenant-7',
        roles: client ? client['x-roles'] : [],
        env: { name: 'interop', region: 'local' },
        marker: `claim-marker-${crypto.randomBytes(8).toString('hex')}`,
      };
    },
    ttl: {
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? DEFAULT_TTL,
    },
  };
}

const keys = ALGORITHMS.map(generateKey);
const stats = {
  discovery: 0, jwks: 0, token: 0, introspection: 0, introspection_jwt: 0,
};
let provider;
let callback;
let issuer;
let mtlsPort;

function buildProvider() {
  provider = new Provider(issuer, configuration(keys));
  provider.on('server_error', (_ctx, error) => {
    process.stderr.write(`oidc-provider server_error: ${error.stack}\n`);
  });
  callback = provider.callback();
}

const publicKeys = () => keys.map(({ alg, jwk }) => ({ kid: jwk.kid, alg }));

function reply(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function admin(req, res, url) {
  const path = url.pathname;
  if (path === '/admin/keys' && req.method === 'GET') {
    return reply(res, 200, publicKeys());
  }
  if (path === '/admin/keys' && req.method === 'POST') {
    const alg = url.searchParams.get('alg');
    if (!ALGORITHMS.includes(alg)) {
      return reply(res, 400, { error: `alg must be one of ${ALGORITHMS.join(', ')}` });
    }
    const key = generateKey(alg);
    keys.push(key);
    buildProvider();
    return reply(res, 201, { kid: key.jwk.kid, alg });
  }
  if (path.startsWith('/admin/keys/') && req.method === 'DELETE') {
    const kid = decodeURIComponent(path.slice('/admin/keys/'.length));
    const index = keys.findIndex((key) => key.jwk.kid === kid);
    if (index === -1) {
      return reply(res, 404, { error: 'no such key' });
    }
    keys.splice(index, 1);
    buildProvider();
    return reply(res, 200, publicKeys());
  }
  if (path === '/admin/stats' && req.method === 'GET') {
    return reply(res, 200, stats);
  }
  return reply(res, 404, { error: 'unknown admin request' });
}

function handle(req, res) {
  const url = new URL(req.url, issuer);
  if (url.pathname.startsWith('/admin/')) {
    admin(req, res, url);
    return;
  }
  if (url.pathname === '/.well-known/openid-configuration') stats.discovery += 1;
  if (url.pathname === '/jwks') stats.jwks += 1;
  if (url.pathname === '/token') stats.token += 1;
  if (url.pathname === '/token/introspection') {
    stats.introspection += 1;
    res.on('finish', () => {
      if (String(res.getHeader('content-type')).startsWith('application/token-introspection+jwt')) {
        stats.introspection_jwt += 1;
      }
    });
  }
  callback(req, res);
}

const server = http.createServer(handle);
const tlsServer = TLS && https.createServer(
  { ...TLS, requestCert: true, rejectUnauthorized: false },
  handle,
);

const listen = (listener) => new Promise((resolve) => {
  listener.listen(0, '127.0.0.1', () => resolve(listener.address().port));
});

const port = await listen(server);
issuer = `http://127.0.0.1:${port}`;
if (tlsServer) mtlsPort = await listen(tlsServer);
buildProvider();
process.stdout.write(`${JSON.stringify({
  ready: true, issuer, port, mtls_port: mtlsPort, keys: publicKeys(),
})}\n`);

function stop() {
  for (const listener of [server, tlsServer]) {
    listener?.close();
    listener?.closeAllConnections();
  }
  process.exit(0);
}

process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The parent holds our stdin: when it goes away, so do we.
readline.createInterface({ input: process.stdin }).on('close', stop);
process.stdin.resume();
