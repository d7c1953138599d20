// Reads SO_PEERCRED from a connected unix socket's file descriptor.
// Node has no API for this, and identity must come from the kernel, never from the peer's own
// claims (the SPIFFE Workload API trusts only what the OS attests). Kept to one function so the
// native surface stays auditable.
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <node_api.h>

static napi_value throw_errno(napi_env env, int err) {
  char message[128];
  snprintf(message, sizeof message, "getsockopt(SO_PEERCRED): %s", strerror(err));
  napi_throw_error(env, "EPEERCRED", message);
  return NULL;
}

static napi_value set_int(napi_env env, napi_value object, const char* name, int64_t value) {
  napi_value number;
  napi_create_int64(env, value, &number);
  napi_set_named_property(env, object, name, number);
  return object;
}

// peerCredentials(fd: number) -> { pid, uid, gid }
static napi_value peer_credentials(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd = -1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, "EPEERCRED", "peerCredentials expects a file descriptor");
    return NULL;
  }
  struct ucred credentials;
  socklen_t length = sizeof credentials;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) {
    return throw_errno(env, errno);
  }
  napi_value result;
  napi_create_object(env, &result);
  set_int(env, result, "pid", credentials.pid);
  set_int(env, result, "uid", credentials.uid);
  set_int(env, result, "gid", credentials.gid);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "peerCredentials", NAPI_AUTO_LENGTH, peer_credentials, NULL, &fn);
  napi_set_named_property(env, exports, "peerCredentials", fn);
  return exports;
}
