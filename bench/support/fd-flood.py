"""An fd flood from one uid (run under an unregistered uid by bench/floods.ts): holds up to
`hold` connections, and churns through new ones (each sending a connection error: DATA on
stream 0) as fast as it can until stdin closes. Prints one JSON line once the flood is at
full strength, and a summary at the end."""
import json, os, select, socket, sys

path, hold = sys.argv[1], int(sys.argv[2])
BAD = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00" + b"\x00\x00\x01\x00\x00\x00\x00\x00\x00x"
held, opened, failed, reported = [], 0, 0, False
while True:
    if select.select([0], [], [], 0)[0] and os.read(0, 1) == b"":
        break
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        s.send(BAD)
        opened += 1
    except OSError:
        failed += 1
        s.close()
        if failed > 10000 and opened == 0:
            sys.exit("fd-flood: cannot connect to " + path)
        continue
    held.append(s)
    if len(held) > hold:
        held.pop(0).close()
    if not reported and len(held) >= hold:
        print(json.dumps({"holding": len(held)}), flush=True)
        reported = True
print(json.dumps({"opened": opened, "failed": failed}), flush=True)
