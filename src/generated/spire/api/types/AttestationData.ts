// Original file: proto/spire/api/types/attestation.proto


export interface AttestationData {
  'type'?: (string);
  'payload'?: (Buffer | Uint8Array | string);
}

export interface AttestationData__Output {
  'type': (string);
  'payload': (Buffer);
}
