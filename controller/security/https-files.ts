/**
 * The certificate and key the controller serves HTTPS with (HARROW_TLS_CERT, HARROW_TLS_KEY).
 * They are read and checked before anything else starts, so a wrong path, a file that is not PEM,
 * or a key that does not belong to the certificate is one line at start, not a server that listens
 * and then fails every handshake.
 */
import { readFileSync, statSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { HarrowError } from '../../protocol/errors.js';
import type { ControllerConfig } from '../config.js';

export interface HttpsFiles {
  cert: Buffer;
  key: Buffer;
  /** Worth a warning at start, not a refusal (a key file others may read). */
  warnings: string[];
}

function readPem(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (code ?? (err as Error).message);
    throw new HarrowError('INVALID_CONFIG', `cannot read ${variable} (${path}): ${why}; give the path of a PEM file the server's user can read`, { cause: err });
  }
}

/** The HTTPS files of the configuration, checked; undefined when HTTPS is not configured. */
export function loadHttpsFiles(config: Pick<ControllerConfig, 'HARROW_TLS_CERT' | 'HARROW_TLS_KEY'>): HttpsFiles | undefined {
  const certPath = config.HARROW_TLS_CERT;
  const keyPath = config.HARROW_TLS_KEY;
  if (certPath === undefined || keyPath === undefined) return undefined;
  const cert = readPem('HARROW_TLS_CERT', certPath);
  const key = readPem('HARROW_TLS_KEY', keyPath);
  try {
    // The same check the HTTPS server would make at its first handshake, made now.
    createSecureContext({ cert, key });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const message = (err as Error).message;
    if (/KEY_VALUES_MISMATCH/.test(code) || /key values mismatch/i.test(message)) {
      throw new HarrowError('INVALID_CONFIG', `HARROW_TLS_KEY (${keyPath}) is not the private key of the certificate in HARROW_TLS_CERT (${certPath}); give the key the certificate was issued for`, { cause: err });
    }
    if (/PEM|ASN1|DECODER/i.test(code) || /PEM|asn1|decoder/i.test(message)) {
      throw new HarrowError('INVALID_CONFIG', `HARROW_TLS_CERT (${certPath}) and HARROW_TLS_KEY (${keyPath}) must be a PEM certificate and its unencrypted PEM private key (${code || message})`, { cause: err });
    }
    throw new HarrowError('INVALID_CONFIG', `cannot use HARROW_TLS_CERT (${certPath}) with HARROW_TLS_KEY (${keyPath}): ${message}`, { cause: err });
  }
  const warnings: string[] = [];
  const mode = statSync(keyPath).mode;
  if ((mode & 0o077) !== 0) {
    warnings.push(`HARROW_TLS_KEY (${keyPath}) can be read by other users (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
  }
  return { cert, key, warnings };
}
