import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { openssl } from '../../support/openssl';

/**
 * Certificates made by the real openssl CLI (`openssl req` + `openssl ca`), each one broken on
 * purpose in exactly the way a test names. `openssl ca` rather than `x509 -req`: it takes
 * explicit start and end dates, so an expired certificate is expired for real.
 */
export interface Issued {
  readonly name: string;
  readonly certPath: string;
  readonly keyPath: string;
}

export const EC_P256 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
export const rsa = (bits: number): string[] => ['-newkey', `rsa:${bits}`];

/** A conforming X509-SVID leaf (X509-SVID §2–§4), as openssl extension config lines. */
export const leafExtensions = (spiffeId = 'spiffe://example.org/web'): string[] => [
  'basicConstraints = critical, CA:FALSE',
  'keyUsage = critical, digitalSignature',
  'extendedKeyUsage = serverAuth, clientAuth',
  `subjectAltName = URI:${spiffeId}`,
  'subjectKeyIdentifier = hash',
  'authorityKeyIdentifier = keyid',
];

/** A conforming signing certificate; `spiffeId` undefined leaves out the URI SAN. */
export const caExtensions = (spiffeId: string | undefined = 'spiffe://example.org'): string[] => [
  'basicConstraints = critical, CA:TRUE',
  'keyUsage = critical, keyCertSign, cRLSign',
  ...(spiffeId ? [`subjectAltName = URI:${spiffeId}`] : []),
  'subjectKeyIdentifier = hash',
];

export interface IssueOptions {
  /** `-subj` value; "/" gives an empty subject. */
  readonly subject?: string;
  readonly key?: string[];
  readonly extensions?: string[];
  /** openssl ca date format, YYYYMMDDHHMMSSZ; default: now − 1 min to now + 30 days. */
  readonly startDate?: string;
  readonly endDate?: string;
}

const CA_CONFIG = `[ ca ]
default_ca = doctor_ca
[ doctor_ca ]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = anything
unique_subject = no
email_in_dn = no
preserve = yes
[ anything ]
commonName = optional
organizationName = optional
`;

export class OpensslPki {
  private constructor(readonly dir: string) {}

  static async create(dir: string): Promise<OpensslPki> {
    await writeFile(path.join(dir, 'index.txt'), '');
    await writeFile(path.join(dir, 'serial'), '1000\n');
    await writeFile(path.join(dir, 'ca.cnf'), CA_CONFIG);
    return new OpensslPki(dir);
  }

  /** A self-signed CA (the issuer is itself). */
  root(name: string, options: IssueOptions = {}): Promise<Issued> {
    return this.issue(name, undefined, { extensions: caExtensions(undefined), ...options });
  }

  /** A certificate for a new key, signed by `issuer` (or self-signed when undefined). */
  async issue(name: string, issuer: Issued | undefined, options: IssueOptions = {}): Promise<Issued> {
    const certPath = path.join(this.dir, `${name}.pem`);
    const keyPath = path.join(this.dir, `${name}.key`);
    const request = await openssl(['req', '-new', ...(options.key ?? EC_P256), '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', options.subject ?? `/CN=${name}`], this.dir);
    assert.ok(request.ok, request.output);
    const extensions = options.extensions ?? leafExtensions();
    await writeFile(path.join(this.dir, `${name}.ext`), `[ v3 ]\n${extensions.join('\n')}\n`);
    const now = Date.now();
    const signed = await openssl(
      [
        'ca', '-batch', '-notext', '-config', 'ca.cnf', '-in', `${name}.csr`, '-out', `${name}.pem`,
        ...(issuer ? ['-cert', path.basename(issuer.certPath), '-keyfile', path.basename(issuer.keyPath)] : ['-selfsign', '-keyfile', `${name}.key`]),
        '-startdate', options.startDate ?? opensslDate(new Date(now - 60_000)),
        '-enddate', options.endDate ?? opensslDate(new Date(now + 30 * 86_400_000)),
        ...(extensions.length ? ['-extfile', `${name}.ext`, '-extensions', 'v3'] : []),
      ],
      this.dir,
    );
    assert.ok(signed.ok, `${name}: ${signed.output}`);
    return { name, certPath, keyPath };
  }

  /** Concatenates the certificates' PEM, in the given order, into `<name>.pem`. */
  async bundle(name: string, certificates: readonly Issued[]): Promise<string> {
    const file = path.join(this.dir, `${name}.pem`);
    const pems = await Promise.all(certificates.map((certificate) => readFile(certificate.certPath, 'utf8')));
    await writeFile(file, pems.join(''));
    return file;
  }
}

export function opensslDate(date: Date): string {
  return `${date.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
}
