/**
 * OIDC bearer tokens (JWTs) for the CLI and automation of teams whose identity provider issues
 * them (Keycloak, Entra ID, Okta, Dex...). A token is accepted when `jose` verifies its signature
 * against the issuer's published keys (JWKS) and its issuer, audience and expiry; its groups claim
 * gives the role, through the same HARROW_SSO_ROLES as the proxy.
 *
 * The keys come from HARROW_OIDC_JWKS_URL, or from the `jwks_uri` of the issuer's discovery
 * document (fetched on first use and again after a failure). jose keeps the key set, fetches it
 * again when a token names a key id it does not know (the issuer rotated its keys), but not more
 * than once per HARROW_OIDC_JWKS_COOLDOWN_MS, so a flood of made-up key ids cannot turn into a
 * flood of requests to the issuer.
 *
 * Only asymmetric algorithms are accepted: with HS256 the "key" would be a shared secret, and
 * `alg: none` is no signature at all.
 */
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import { HarrowError } from '../../protocol/errors.js';
import { SECOND } from '../../protocol/time.js';
import type { Identity } from './auth.js';
import { roleOfGroups, type RoleMap } from './sso-config.js';

const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
/** Allowed clock difference between the issuer and this server, in seconds. */
const CLOCK_TOLERANCE_S = 30;
const FETCH_TIMEOUT_MS = 5 * SECOND;

export interface OidcSettings {
  issuer: string;
  audience: string;
  jwksUrl: string | undefined;
  groupsClaim: string;
  roles: RoleMap;
  cooldownMs: number;
}

/** Whether a bearer value has the shape of a JWT (three base64url parts, a JSON header). */
export function looksLikeJwt(token: string): boolean {
  return /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/.test(token);
}

function refused(message: string): HarrowError {
  return new HarrowError('UNAUTHORIZED', `the OIDC token was refused: ${message}`);
}

export class OidcVerifier {
  private keys: Promise<ReturnType<typeof createRemoteJWKSet>> | null = null;

  constructor(private readonly s: OidcSettings) {}

  /** The key set, discovering its URL first when it is not configured. */
  private keySet(): Promise<ReturnType<typeof createRemoteJWKSet>> {
    this.keys ??= this.discover().then(
      (url) => createRemoteJWKSet(new URL(url), { cooldownDuration: this.s.cooldownMs, timeoutDuration: FETCH_TIMEOUT_MS }),
      (err: unknown) => {
        this.keys = null;
        throw err;
      },
    );
    return this.keys;
  }

  private async discover(): Promise<string> {
    if (this.s.jwksUrl !== undefined) return this.s.jwksUrl;
    const url = `${this.s.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const unavailable = (why: string) => new HarrowError('IDENTITY_PROVIDER_UNAVAILABLE', `OIDC tokens cannot be checked now: ${url} ${why}; set HARROW_OIDC_JWKS_URL or check the issuer`);
    let doc: { issuer?: unknown; jwks_uri?: unknown };
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), headers: { accept: 'application/json' } });
      if (!res.ok) throw unavailable(`answered HTTP ${res.status}`);
      doc = (await res.json()) as typeof doc;
    } catch (err) {
      if (err instanceof HarrowError) throw err;
      throw unavailable(`could not be read (${(err as Error).message})`);
    }
    // OpenID Connect Discovery 1.0, section 4.3: the document must name the issuer it was fetched for.
    if (doc.issuer !== this.s.issuer) throw unavailable(`names the issuer ${JSON.stringify(doc.issuer)}, not HARROW_OIDC_ISSUER (${this.s.issuer})`);
    if (typeof doc.jwks_uri !== 'string' || !URL.canParse(doc.jwks_uri)) throw unavailable('has no valid jwks_uri');
    return doc.jwks_uri;
  }

  /** The identity of a valid token; throws UNAUTHORIZED (saying why) for any other. */
  async verify(token: string): Promise<Identity> {
    const keys = await this.keySet();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: this.s.issuer,
        audience: this.s.audience,
        algorithms: ALGORITHMS,
        clockTolerance: CLOCK_TOLERANCE_S,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (err) {
      throw this.explain(err);
    }
    const groups = this.groupsOf(payload);
    const name = [payload.preferred_username, payload.email, payload.sub].find((v): v is string => typeof v === 'string' && v !== '')!;
    const role = roleOfGroups(this.s.roles, groups);
    if (role === null) {
      throw new HarrowError('FORBIDDEN', `the OIDC token of '${name}' is valid, but none of its groups (${groups.join(', ') || 'none in the claim ' + this.s.groupsClaim}) has a role in HARROW_SSO_ROLES (${this.s.roles.text}); ask an admin to add you to one of those groups`);
    }
    return {
      name,
      role,
      projects: null,
      ref: `@sso:oidc:${role}:${name}`,
      sso: { via: 'oidc', email: typeof payload.email === 'string' ? payload.email : null, groups, from: this.s.issuer, subject: payload.sub! },
    };
  }

  private groupsOf(payload: JWTPayload): string[] {
    const claim = payload[this.s.groupsClaim];
    if (Array.isArray(claim)) return claim.filter((g): g is string => typeof g === 'string');
    if (typeof claim === 'string') return claim.split(/[\s,]+/).filter((g) => g !== '');
    return [];
  }

  private explain(err: unknown): HarrowError {
    if (err instanceof HarrowError) return err;
    if (err instanceof errors.JWTExpired) return refused(`it expired at ${new Date(Number(err.payload.exp) * 1000).toISOString()}; get a new one from the issuer`);
    if (err instanceof errors.JWTClaimValidationFailed) {
      const got = (err.payload as Record<string, unknown>)[err.claim];
      if (err.claim === 'aud') return refused(`its audience is ${JSON.stringify(got)}, and this server accepts only ${JSON.stringify(this.s.audience)} (HARROW_OIDC_AUDIENCE); request a token for that client`);
      if (err.claim === 'iss') return refused(`it was issued by ${JSON.stringify(got)}, and this server accepts only ${this.s.issuer} (HARROW_OIDC_ISSUER)`);
      if (err.claim === 'nbf') return refused('it is not valid yet (nbf); check the clocks of the issuer and this server');
      return refused(`its claim ${err.claim} is ${err.reason === 'missing' ? 'missing' : 'not acceptable'} (${err.message})`);
    }
    if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
      return refused(`its algorithm is not accepted (${err.message}); accepted: ${ALGORITHMS.join(', ')}`);
    }
    if (err instanceof errors.JWKSNoMatchingKey) return refused("no key of the issuer's JWKS matches its key id (kid), even after fetching the keys again");
    if (err instanceof errors.JWKSMultipleMatchingKeys) return refused('several keys of the JWKS match it; the token must name its key id (kid)');
    if (err instanceof errors.JWSSignatureVerificationFailed) return refused("its signature does not verify against the issuer's key");
    if (err instanceof errors.JWKSTimeout) return new HarrowError('IDENTITY_PROVIDER_UNAVAILABLE', "OIDC tokens cannot be checked now: the issuer's JWKS did not answer in time");
    if (err instanceof errors.JWKSInvalid || (err instanceof Error && !(err instanceof errors.JOSEError))) {
      // A network failure fetching the keys is the issuer's outage, not the client's fault.
      return new HarrowError('IDENTITY_PROVIDER_UNAVAILABLE', `OIDC tokens cannot be checked now: the issuer's keys could not be fetched (${err.message})`);
    }
    if (err instanceof errors.JOSEError) return refused(`it is not a valid signed JWT (${err.message})`);
    return refused('it could not be verified');
  }
}
