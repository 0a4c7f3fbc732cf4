// A certified OpenID provider (panva's oidc-provider) set up as Infino's
// authorization server would be, for the hand-off's interop tests
// (internal/oidcpeer). Started by up.sh; everything comes from the
// environment:
//
//   OIDCPEER_HOST, OIDCPEER_PORT   loopback address to listen on (TLS)
//   OIDCPEER_PATH                  the issuer's path, e.g. /realms/infino
//   OIDCPEER_CERT, OIDCPEER_KEY    PEM server certificate and key
//   OIDCPEER_API_PORT              the Infino API stand-in a test runs on
//                                  127.0.0.1 (plain http): requests under
//                                  <path>/api/ are passed on to it
//   OIDCPEER_CLIENT_ID             the public client (infino-mailbox)
//   OIDCPEER_USER                  the one account, signed in and consenting
//                                  automatically
//
// The issuer is https://HOST:PORT<path>; it is also the Infino URL and the
// resource indicator (RFC 8707) of Infino's API, as docs/infino-api.md
// says. What the provider does is oidc-provider's own behaviour; the
// configuration below only names the client, the scopes and the resource,
// and replaces the login and consent pages by an automatic "yes".
import { readFileSync } from 'node:fs';
import * as https from 'node:https';
import * as http from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';

const env = (k) => {
  const v = process.env[k];
  if (!v) {
    console.error(`oidcpeer: ${k} is not set`);
    process.exit(2);
  }
  return v;
};
const host = env('OIDCPEER_HOST');
const port = Number(env('OIDCPEER_PORT'));
const path = env('OIDCPEER_PATH').replace(/\/+$/, '');
const apiPort = Number(env('OIDCPEER_API_PORT'));
const clientId = env('OIDCPEER_CLIENT_ID');
const user = env('OIDCPEER_USER');
const issuer = `https://${host}:${port}${path}`;
const resource = issuer; // the Infino URL: the API lives under it
const apiScope = 'mailboxes:write';

// A fresh signing key per start: tests read it from jwks_uri.
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: `oidcpeer-${Date.now()}`, use: 'sig', alg: 'RS256' };

// Besides the app's client, two that a misconfigured server amounts to:
// <id>-no-refresh may not use refresh tokens (so offline_access is dropped
// and no refresh token issued), <id>-read-only gets only mailboxes:read at
// the API (a narrower grant than the app asks).
const native = {
  application_type: 'native',
  token_endpoint_auth_method: 'none',
  redirect_uris: ['http://127.0.0.1/', 'http://[::1]/', 'http://localhost/'],
  response_types: ['code'],
  scope: `openid offline_access ${apiScope}`,
};
const readOnly = `${clientId}-read-only`;

const provider = new Provider(issuer, {
  clients: [{ ...native, client_id: `${clientId}-no-refresh`, grant_types: ['authorization_code'] },
    { ...native, client_id: readOnly, grant_types: ['authorization_code', 'refresh_token'] }, {
    client_id: clientId,
    // A native public client: RFC 8252 loopback redirects, any port
    // (oidc-provider ignores the port of a loopback redirect URI for
    // application_type native).
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    redirect_uris: ['http://127.0.0.1/', 'http://[::1]/', 'http://localhost/'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    scope: `openid offline_access ${apiScope}`,
  }],
  scopes: ['openid', 'offline_access', apiScope],
  jwks: { keys: [jwk] },
  cookies: { keys: ['oidcpeer-test-cookie-key-not-a-secret'] },
  // PKCE for every client (S256 is the only method oidc-provider offers).
  pkce: { required: () => true },
  // Rotation: every refresh answers with a new refresh token.
  rotateRefreshToken: true,
  ttl: {
    AccessToken: 600,
    AuthorizationCode: 60,
    Grant: 30 * 24 * 3600,
    Interaction: 600,
    Session: 3600,
    RefreshToken: 30 * 24 * 3600,
  },
  features: {
    devInteractions: { enabled: false },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // Without a resource parameter the access token is opaque and for the
      // userinfo endpoint only: Infino's API cannot accept it, and the grant
      // has no mailboxes:write (what issue 14 saw).
      // The app does not repeat resource at the code exchange; oidc-provider
      // uses the granted one there because the app asks no openid scope.
      defaultResource: () => undefined,
      getResourceServerInfo: (_ctx, indicator, client) => {
        if (indicator !== resource) throw new errors.InvalidTarget(`unknown resource ${indicator}`);
        return {
          scope: client.clientId === readOnly ? 'mailboxes:read' : apiScope,
          audience: resource,
          accessTokenTTL: 600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  findAccount: (_ctx, sub) => ({
    accountId: sub,
    claims: () => ({ sub, email: sub, email_verified: true }),
  }),
  interactions: { url: (_ctx, interaction) => `${path}/interaction/${interaction.uid}` },
});
// oidc-provider's default (kept): refresh tokens only for offline_access,
// and offline_access only with prompt=consent.

// The automatic login and consent of the one test account: what a user
// who signs in and clicks "allow" does, in one redirect.
async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === 'login') {
    await provider.interactionFinished(req, res, { login: { accountId: user } }, { mergeWithLastSubmission: false });
    return;
  }
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
  const d = details.prompt.details;
  if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
  if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(d.missingResourceScopes || {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

// Requests under <path>/api/ go to the Go API stand-in of the test.
function toAPI(req, res) {
  const up = http.request({ host: '127.0.0.1', port: apiPort, method: req.method, path: req.url, headers: req.headers }, (r) => {
    res.writeHead(r.statusCode, r.headers);
    r.pipe(res);
  });
  up.on('error', (err) => {
    res.writeHead(502, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'bad_gateway', message: `no Infino API stand-in on 127.0.0.1:${apiPort}: ${err.code}` }));
  });
  req.pipe(up);
}

const callback = provider.callback();
const server = https.createServer({ cert: readFileSync(env('OIDCPEER_CERT')), key: readFileSync(env('OIDCPEER_KEY')) }, (req, res) => {
  const url = req.url || '/';
  const log = () => console.log(`${new Date().toISOString()} ${req.method} ${url.split('?')[0]} ${res.statusCode}`);
  res.on('finish', log);
  if (url === `${path}/api` || url.startsWith(`${path}/api/`)) {
    toAPI(req, res);
    return;
  }
  if (url.startsWith(`${path}/interaction/`)) {
    interaction(req, res).catch((err) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`interaction failed: ${err.message}`);
    });
    return;
  }
  if (url === path || url.startsWith(`${path}/`) || url.startsWith(`${path}?`)) {
    // Mounted below the issuer's path, as oidc-provider documents for
    // connect-style apps: it reads the mount path from originalUrl.
    req.originalUrl = url;
    req.url = url.slice(path.length) || '/';
    callback(req, res);
    return;
  }
  res.writeHead(404, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ error: 'not_found' }));
});
server.listen(port, host, () => console.log(`oidcpeer: ${issuer} (oidc-provider), API stand-in expected on 127.0.0.1:${apiPort}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
