// The kernel facts meshid binds a connection's identity to, for a connected unix socket:
//   peerCredentials(fd) -> { pid, uid, gid }   SO_PEERCRED, recorded by the kernel at connect(2)
//   peerPidfd(fd)       -> pidfd               SO_PEERPIDFD (Linux >= 6.5): the connecting
//                                              process itself, pinned at connect(2), so a pid reused
//                                              before accept can never be mistaken for it
//   pidfdOpen(pid)      -> pidfd               pidfd_open(2) (Linux >= 5.3), the fallback
//   pidfdExited(pidfd)  -> boolean             poll(2): a pidfd is readable once its process has
//                                              terminated, zombie or reaped (pidfd_open(2))
//   pidfdCredentials(pidfd) -> [ruid, euid, suid, fsuid, rgid, egid, sgid, fsgid]
//                                              PIDFD_GET_INFO (Linux 6.13): the process's ids in one
//                                              ioctl, tied to that process, instead of reading and
//                                              parsing /proc/<pid>/status (~20x the cost)
// Node has no API for these, and identity must come from the kernel, never from the peer's own
// claims (the SPIFFE Workload API trusts only what the OS attests). Errors carry the errno name
// as `code` so the caller can tell "unsupported here" (ENOPROTOOPT, ENOSYS) from "gone" (ESRCH).
// Kept to these five small functions so the native surface stays auditable.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <node_api.h>

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77  // include/uapi/asm-generic/socket.h, Linux 6.5
#endif
// include/uapi/linux/pidfd.h (Linux 6.13); defined here because distribution headers lag.
struct meshid_pidfd_info {
  uint64_t mask;
  uint64_t cgroupid;
  uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
  uint32_t spare0[1];
};
#define MESHID_PIDFD_INFO_CREDS (1UL << 1)
#define MESHID_PIDFD_GET_INFO _IOWR(0xFF, 11, struct meshid_pidfd_info)

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434  // the same number on every architecture (Linux 5.3)
#endif

static const char* errno_code(int err) {
  switch (err) {
    case ESRCH: return "ESRCH";
    case ENOPROTOOPT: return "ENOPROTOOPT";
    case ENOSYS: return "ENOSYS";
    case EINVAL: return "EINVAL";
    case EBADF: return "EBADF";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOTSOCK: return "ENOTSOCK";
    case ENOTTY: return "ENOTTY";
    default: return "EUNKNOWN";
  }
}

static napi_value throw_errno(napi_env env, const char* what, int err) {
  char message[160];
  snprintf(message, sizeof message, "%s: %s", what, strerror(err));
  napi_throw_error(env, errno_code(err), message);
  return NULL;
}

static napi_value set_int(napi_env env, napi_value object, const char* name, int64_t value) {
  napi_value number;
  napi_create_int64(env, value, &number);
  napi_set_named_property(env, object, name, number);
  return object;
}

static int int_argument(napi_env env, napi_callback_info info, int32_t* value) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], value) != napi_ok || *value < 0) {
    napi_throw_type_error(env, "EINVAL", "expected a non-negative integer");
    return 0;
  }
  return 1;
}

static napi_value int_value(napi_env env, int64_t value) {
  napi_value result;
  napi_create_int64(env, value, &result);
  return result;
}

static napi_value peer_credentials(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (!int_argument(env, info, &fd)) return NULL;
  struct ucred credentials;
  socklen_t length = sizeof credentials;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) {
    return throw_errno(env, "getsockopt(SO_PEERCRED)", errno);
  }
  napi_value result;
  napi_create_object(env, &result);
  set_int(env, result, "pid", credentials.pid);
  set_int(env, result, "uid", credentials.uid);
  set_int(env, result, "gid", credentials.gid);
  return result;
}

// pidfds are created close-on-exec by the kernel; FD_CLOEXEC is set again so that no child the
// agent ever spawns (an afterWrite hook) can inherit a handle on a workload's process.
static napi_value cloexec_pidfd(napi_env env, int pidfd) {
  fcntl(pidfd, F_SETFD, FD_CLOEXEC);
  return int_value(env, pidfd);
}

static napi_value peer_pidfd(napi_env env, napi_callback_info info) {
  int32_t fd;
  if (!int_argument(env, info, &fd)) return NULL;
  int pidfd = -1;
  socklen_t length = sizeof pidfd;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &length) != 0) {
    return throw_errno(env, "getsockopt(SO_PEERPIDFD)", errno);
  }
  return cloexec_pidfd(env, pidfd);
}

static napi_value pidfd_open(napi_env env, napi_callback_info info) {
  int32_t pid;
  if (!int_argument(env, info, &pid)) return NULL;
  long pidfd = syscall(SYS_pidfd_open, (pid_t)pid, 0);
  if (pidfd < 0) return throw_errno(env, "pidfd_open", errno);
  return cloexec_pidfd(env, (int)pidfd);
}

static napi_value pidfd_exited(napi_env env, napi_callback_info info) {
  int32_t pidfd;
  if (!int_argument(env, info, &pidfd)) return NULL;
  struct pollfd poller = { .fd = pidfd, .events = POLLIN, .revents = 0 };
  int ready;
  do {
    ready = poll(&poller, 1, 0);
  } while (ready < 0 && errno == EINTR);
  if (ready < 0) return throw_errno(env, "poll(pidfd)", errno);
  if (poller.revents & POLLNVAL) return throw_errno(env, "poll(pidfd)", EBADF);
  napi_value result;
  napi_get_boolean(env, ready > 0 && (poller.revents & (POLLIN | POLLHUP)) != 0, &result);
  return result;
}

static napi_value pidfd_credentials(napi_env env, napi_callback_info info) {
  int32_t pidfd;
  if (!int_argument(env, info, &pidfd)) return NULL;
  struct meshid_pidfd_info process_info;
  memset(&process_info, 0, sizeof process_info);
  process_info.mask = MESHID_PIDFD_INFO_CREDS;
  if (ioctl(pidfd, MESHID_PIDFD_GET_INFO, &process_info) != 0) {
    return throw_errno(env, "ioctl(PIDFD_GET_INFO)", errno);
  }
  if (!(process_info.mask & MESHID_PIDFD_INFO_CREDS)) return throw_errno(env, "ioctl(PIDFD_GET_INFO)", ENOTTY);
  const uint32_t ids[8] = {process_info.ruid, process_info.euid, process_info.suid, process_info.fsuid,
                           process_info.rgid, process_info.egid, process_info.sgid, process_info.fsgid};
  napi_value result;
  napi_create_array_with_length(env, 8, &result);
  for (uint32_t index = 0; index < 8; index++) {
    napi_set_element(env, result, index, int_value(env, ids[index]));
  }
  return result;
}

static void export_function(napi_env env, napi_value exports, const char* name, napi_callback callback) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, callback, NULL, &fn);
  napi_set_named_property(env, exports, name, fn);
}

NAPI_MODULE_INIT() {
  export_function(env, exports, "peerCredentials", peer_credentials);
  export_function(env, exports, "peerPidfd", peer_pidfd);
  export_function(env, exports, "pidfdOpen", pidfd_open);
  export_function(env, exports, "pidfdExited", pidfd_exited);
  export_function(env, exports, "pidfdCredentials", pidfd_credentials);
  return exports;
}
