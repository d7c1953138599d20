"""meshid's py-spiffe interop peer: a Python workload using the `spiffe` package (py-spiffe 0.3.2).

It finds the agent as users configure it, through SPIFFE_ENDPOINT_SOCKET=unix:///path, and prints
one JSON object on stdout for test/interop/py-spiffe.test.ts.

    python peer.py x509            # X.509 context (SVIDs + bundle set), X509Source, FetchX509Bundles
    python peer.py jwt AUDIENCE    # JWT-SVID, validated locally with the JWT bundle and by the agent
    python peer.py watch N         # X509Source until it has held N different SVIDs (rotations)
"""

import json
import sys
import threading

from cryptography.hazmat.primitives import hashes
from spiffe import JwtSvid, WorkloadApiClient, X509Source

TIMEOUT_S = 10


def fingerprint(certificate):
    return certificate.fingerprint(hashes.SHA256()).hex()


def bundle_fingerprints(bundle_set):
    """Trust domain ID ("spiffe://example.org") -> SHA-256 fingerprints of its roots."""
    return {b.trust_domain.as_spiffe_id(): sorted(fingerprint(c) for c in b.x509_authorities) for b in bundle_set.bundles}


def x509(client):
    context = client.fetch_x509_context()
    svid = context.default_svid
    chain = svid.cert_chain
    # The chain must verify up to a root of the bundle the context carries for its trust domain.
    bundle = context.x509_bundle_set.get_bundle_for_trust_domain(svid.spiffe_id.trust_domain)
    roots = bundle.x509_authorities if bundle else set()
    for child, issuer in zip(chain, chain[1:]):
        child.verify_directly_issued_by(issuer)
    anchored = False
    for root in roots:
        try:
            chain[-1].verify_directly_issued_by(root)
            anchored = True
        except Exception:  # another root of the bundle
            pass

    source = X509Source(timeout_in_seconds=TIMEOUT_S)
    try:
        source_id = str(source.svid.spiffe_id)
    finally:
        source.close()

    bundles = client.fetch_x509_bundles()
    return {
        "event": "x509",
        "spiffeId": str(svid.spiffe_id),
        "svidIds": [str(each.spiffe_id) for each in context.x509_svids],
        "chainLength": len(chain),
        "leafSerial": format(svid.leaf.serial_number, "x"),
        "chainAnchored": anchored,
        "contextBundles": bundle_fingerprints(context.x509_bundle_set),
        "sourceSpiffeId": source_id,
        "fetchedBundles": bundle_fingerprints(bundles),
    }


def jwt(client, audience):
    svid = client.fetch_jwt_svid(audience={audience})
    bundles = client.fetch_jwt_bundles()
    bundle = bundles.get_bundle_for_trust_domain(svid.spiffe_id.trust_domain)
    local = JwtSvid.parse_and_validate(svid.token, bundle, {audience})
    remote = client.validate_jwt_svid(svid.token, audience)
    refusals = {}
    try:
        JwtSvid.parse_and_validate(svid.token, bundle, {audience + "-other"})
    except Exception as error:  # the expected outcome
        refusals["local"] = type(error).__name__ + ": " + str(error)
    try:
        client.validate_jwt_svid(svid.token, audience + "-other")
    except Exception as error:  # the expected outcome
        refusals["agent"] = type(error).__name__ + ": " + str(error)
    return {
        "event": "jwt",
        "spiffeId": str(svid.spiffe_id),
        "audience": sorted(svid.audience),
        "token": svid.token,
        "localValidatedId": str(local.spiffe_id),
        "agentValidatedId": str(remote.spiffe_id),
        "bundleKeyIds": sorted(bundle.jwt_authorities.keys()) if bundle else [],
        "wrongAudienceRefused": refusals,
    }


def watch(count):
    """Holds an X509Source (one FetchX509SVID stream) until rotations pushed `count` SVIDs."""
    source = X509Source(timeout_in_seconds=TIMEOUT_S)
    serials = []
    done = threading.Event()

    def record():
        serial = format(source.svid.leaf.serial_number, "x")
        if serial not in serials:
            serials.append(serial)
        if len(serials) >= count:
            done.set()

    source.subscribe_for_updates(record)
    record()
    complete = done.wait(timeout=40)
    source.close()
    return {"event": "watch", "serials": serials, "complete": complete}


def main(argv):
    with WorkloadApiClient(default_timeout=TIMEOUT_S) as client:
        if argv[1:2] == ["x509"]:
            result = x509(client)
        elif argv[1:2] == ["jwt"] and len(argv) == 3:
            result = jwt(client, argv[2])
        elif argv[1:2] == ["watch"] and len(argv) == 3:
            result = watch(int(argv[2]))
        else:
            raise SystemExit(__doc__)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    try:
        main(sys.argv)
    except SystemExit:
        raise
    except Exception as error:
        print(json.dumps({"event": "error", "error": type(error).__name__ + ": " + str(error)}), flush=True)
        sys.exit(1)
