import { MeshidError } from '../common/errors';
import { signCertificate } from './certificate';
import { allowsCertificateSigning, readIssuerParts, samePublicKey } from './certificate-parts';
import { validateDnsName } from './dns-name';
import { isRsa, type KeyType } from './key-type';
import { LeafKeySource } from './leaf-key';
import { MintGate } from './mint-gate';
import { LeafTemplate } from './leaf-template';
import type { CertificateSigner } from './signer';
import type { SpiffeId } from './spiffe-id';
import { truncateToSecond } from './x509-time';

export interface LeafRequest {
  readonly spiffeId: SpiffeId;
  readonly dnsNames: readonly string[];
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export interface MintedLeaf {
  readonly certificateDer: Buffer;
  /**
   * Set by a minter whose issuer is not the node intermediate (a SPIRE server signing each SVID):
   * the certificates the issuer returned between the leaf and a root. The validity below is
   * then the issuer's choice, and the SVID store uses it as is.
   */
  readonly issuerChainDer?: readonly Buffer[];
  readonly privateKeyPkcs8Der: Buffer;
  readonly serialHex: string;
  /** As written in the certificate: the requested instants truncated to whole seconds. */
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** What mints leaves for the SVID store: a LeafMinter under the node intermediate, or a remote signer. */
export interface LeafMinting {
  mint(request: LeafRequest): Promise<MintedLeaf>;
}

export interface LeafIssuer {
  readonly certificateDer: Buffer;
  readonly signer: CertificateSigner;
}

const MAX_REMEMBERED_DNS_NAMES = 4096;

/** What every minter of one agent shares: they all use the same main thread and thread pool. */
export interface MintResources {
  readonly gate: MintGate;
  readonly keys: LeafKeySource;
}


/**
 * The gate an agent's minters share. 32 in flight keeps the 4 pool threads busy while bounding one
 * burst of key generation on the main thread to about 32 × 60 µs ≈ 2 ms.
 */
export const MINTS_IN_FLIGHT = 32;

/** Resources for one agent (NodeCa makes one set and hands it to every minter it creates). */
export function mintResources(): MintResources {
  return { gate: new MintGate(MINTS_IN_FLIGHT), keys: new LeafKeySource() };
}

/**
 * Mints X.509-SVIDs (the hot path: agent start and CA rotation re-mint every SVID on the node
 * at once). The issuer is taken apart once, here; a mint is a key generation (leaf-key.ts), a
 * template fill (leaf-template.ts) and a signature on the libuv thread pool.
 * Conformance to the X509-SVID spec is checked against openssl by test/identity.
 */
export class LeafMinter {
  private readonly template: LeafTemplate;
  // The same few names are re-minted on every rotation: checking each once saves ~1 µs per name.
  private readonly validDnsNames = new Set<string>();

  constructor(
    private readonly issuer: LeafIssuer,
    private readonly keyType: KeyType,
    private readonly resources: MintResources = mintResources(),
  ) {
    resources.keys.prewarm(keyType);
    const parts = readIssuerParts(issuer.certificateDer);
    // Checked once so a mismatched key or a non-CA issuer fails here, not in every relying party.
    if (!samePublicKey(parts.subjectPublicKeyInfoDer, issuer.signer.publicKeySpkiDer)) throw new MeshidError('UPSTREAM', 'leaf issuer: the signer key does not belong to the issuer certificate');
    if (!allowsCertificateSigning(issuer.certificateDer)) throw new MeshidError('UPSTREAM', 'leaf issuer: the issuer certificate may not sign certificates (keyUsage)');
    this.template = new LeafTemplate(parts, issuer.signer.signatureAlgorithmDer, isRsa(keyType));
  }

  async mint(request: LeafRequest): Promise<MintedLeaf> {
    const { spiffeId, dnsNames } = request;
    // X509-SVID §2: a leaf's SPIFFE ID has a path; the bare trust domain ID is for CAs.
    if (spiffeId.isRoot) throw new MeshidError('INVALID_SPIFFE_ID', `a leaf SVID needs an ID with a path, got ${spiffeId.toString()}`);
    for (const name of dnsNames) {
      if (this.validDnsNames.has(name)) continue;
      const problem = validateDnsName(name);
      if (problem) throw new MeshidError('INVALID_CONFIG', `cannot mint ${spiffeId.toString()}: ${problem}`);
      if (this.validDnsNames.size >= MAX_REMEMBERED_DNS_NAMES) this.validDnsNames.clear();
      this.validDnsNames.add(name);
    }
    const notBefore = truncateToSecond(request.notBefore);
    const notAfter = truncateToSecond(request.notAfter);
    if (!(notAfter.getTime() > notBefore.getTime())) {
      throw new MeshidError('INTERNAL', `cannot mint ${spiffeId.toString()}: notAfter ${String(request.notAfter)} is not after notBefore ${String(request.notBefore)}`);
    }

    return this.resources.gate.run(async () => {
      const key = await this.resources.keys.generate(this.keyType);
      const { tbsDer, serialHex } = this.template.encode({
        spiffeId: spiffeId.toString(),
        dnsNames,
        notBefore,
        notAfter,
        publicKeySpkiDer: key.publicKeySpkiDer,
      });
      return {
        certificateDer: await signCertificate(tbsDer, this.issuer.signer),
        privateKeyPkcs8Der: key.privateKeyPkcs8Der,
        serialHex,
        notBefore,
        notAfter,
      };
    });
  }
}
