// The client's SPIFFE ID for nginx, read from the URI SAN of the certificate nginx verified.
// nginx has no variable for subject alternative names ($ssl_client_s_dn is the subject, which an
// X509-SVID need not fill), so this njs module (Debian: libnginx-mod-http-js) walks the DER of
// $ssl_client_raw_cert. meshid-mtls.conf uses it as
//   js_import meshid from /etc/nginx/njs/meshid-spiffe-id.js;
//   js_set $meshid_client_spiffe_id meshid.clientSpiffeId;
// It returns "" unless nginx verified the certificate and it carries exactly one URI SAN, and
// that one is a spiffe:// URI (the X509-SVID rules, section 2); meshid-mtls.conf refuses "".

// id-ce-subjectAltName (2.5.29.17) as DER contents, and the GeneralName tag of a URI ([6] IA5String).
const SAN_OID = '551d11';
const TAG_URI = 0x86;

// One DER element at `pos`: its tag, where its contents start and where it ends.
function element(der, pos, limit) {
  if (pos + 2 > limit) throw new Error('truncated');
  const tag = der[pos];
  let length = der[pos + 1];
  let start = pos + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets < 1 || octets > 4 || start + octets > limit) throw new Error('bad length');
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + der[start + i];
    start += octets;
  }
  const end = start + length;
  if (end > limit) throw new Error('truncated');
  return { tag: tag, start: start, end: end };
}

// The contents of each element inside a constructed one.
function children(der, parent) {
  const list = [];
  for (let pos = parent.start; pos < parent.end; pos = list[list.length - 1].end) list.push(element(der, pos, parent.end));
  return list;
}

function hex(der, from, to) {
  let text = '';
  for (let i = from; i < to; i++) text += (der[i] < 16 ? '0' : '') + der[i].toString(16);
  return text;
}

// Every URI SAN of a DER certificate.
function uriSans(der) {
  const certificate = element(der, 0, der.length);
  const tbs = children(der, certificate)[0];
  const extensions = children(der, tbs).filter(function (part) {
    return part.tag === 0xa3; // [3] EXPLICIT Extensions
  })[0];
  if (!extensions) return [];
  const uris = [];
  children(der, children(der, extensions)[0]).forEach(function (extension) {
    const parts = children(der, extension);
    if (parts[0].tag !== 0x06 || hex(der, parts[0].start, parts[0].end) !== SAN_OID) return;
    const value = parts[parts.length - 1]; // extnValue OCTET STRING (after an optional critical BOOLEAN)
    const names = element(der, value.start, value.end);
    children(der, names).forEach(function (name) {
      if (name.tag === TAG_URI) uris.push(der.slice(name.start, name.end).toString('utf8'));
    });
  });
  return uris;
}

function pemToDer(pem) {
  const body = pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  return Buffer.from(body, 'base64');
}

function clientSpiffeId(r) {
  if (r.variables.ssl_client_verify !== 'SUCCESS') return '';
  const pem = r.variables.ssl_client_raw_cert;
  if (!pem) return '';
  try {
    const uris = uriSans(pemToDer(pem));
    if (uris.length !== 1 || !/^spiffe:\/\/[a-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(uris[0])) return '';
    return uris[0];
  } catch (e) {
    r.warn('meshid-spiffe-id: cannot read the client certificate: ' + e.message);
    return '';
  }
}

export default { clientSpiffeId };
