/**
 * Workload API messages (proto/workload.proto), generated into src/generated/ (`npm run gen:proto`).
 * The agent sets every field of what it sends, so one complete (`__Output`) type serves both the
 * handlers that send these and the CLI that receives them.
 */
export type { X509SVID__Output as X509SvidMessage } from '../generated/X509SVID';
export type { X509SVIDResponse__Output as X509SvidResponse } from '../generated/X509SVIDResponse';
export type { X509BundlesResponse__Output as X509BundlesResponse } from '../generated/X509BundlesResponse';
