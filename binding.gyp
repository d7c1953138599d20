{
  "targets": [
    {
      "target_name": "peer_credentials",
      "sources": ["src/native/peer_credentials.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
