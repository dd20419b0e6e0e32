/*
 * Fault-injecting PKCS#11 module for tests and benchmarks.
 *
 * Forwards every PKCS#11 call to a real module (SoftHSM2 by default) and, when told to through a
 * control file, makes chosen functions return a chosen CK_RV without reaching the real module, or
 * sleeps before forwarding (to emulate a network HSM's round trip). Built and driven by
 * test/support/fault-hsm.ts; see there for the controller.
 *
 * Environment, read once, at the first C_GetFunctionList of the process:
 *   TETHER_FAULT_REAL_MODULE  the real module (default /usr/lib/softhsm/libsofthsm2.so)
 *   TETHER_FAULT_CONTROL      the control file; unset: pure pass-through, no file is touched
 *
 * Control file, one directive a line, `#` starts a comment:
 *   fail  <C_Function|*> <CKR_NAME|0xHEX|decimal> [count] [id=<token>]
 *   delay <C_Function|*> <milliseconds, fractions allowed>
 * A fail rule answers the next `count` calls (default 1; -1: every call until removed) with the
 * CK_RV. A rule naming the function wins over a `*` rule; `*` never fails C_Initialize or
 * C_Finalize, so a caller can always re-initialise the module. A delay naming the function
 * replaces a `*` delay. Delays apply to failed calls too: a remote HSM that errs still costs a
 * round trip. When the file's content changes, the rules are replaced; a rule keeps what is left
 * of its count only if it carries the same id= as before (the controller gives every fail() a
 * fresh id, so rewriting the file for another rule does not re-arm a spent one).
 *
 * An injected fault never reaches the real module, so unlike a real device error it leaves the
 * real session state as it was (e.g. an operation started by C_DecryptInit stays active).
 *
 * Counters: with a control file, the shim keeps `<control>.counts`, memory-mapped and shared by
 * every process using the same control file: one 48-byte record per function in CK_FUNCTION_LIST
 * order, { char name[32]; uint64_t calls; uint64_t injected; } (little-endian, cumulative).
 *
 * Only C_GetFunctionList is exported: pkcs11js (and most PKCS#11 consumers) reach every other
 * function through the list it returns.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pkcs11.h"

/*
 * Every wrapper has one generic signature: eight integer-register-sized arguments, forwarded
 * unchanged to the real function called through the same generic type. This relies on an LP64
 * calling convention in which every PKCS#11 argument (CK_ULONG, a handle, a pointer, or a CK_BBOOL
 * widened by the caller) travels in its own integer register or 8-byte stack slot, and the return
 * value in the first integer register: true of x86_64 System V and AArch64 AAPCS64. No PKCS#11
 * 2.40 function takes more than eight arguments (C_UnwrapKey takes eight), none takes a struct
 * or a float by value, and none is variadic. Arguments a caller did not pass are read from
 * registers or from the caller's own stack frame and ignored by the real function.
 */
#if !(defined(__x86_64__) || defined(__aarch64__)) || !defined(__LP64__)
#error "fault-hsm shim: the generic wrapper assumes x86_64 or aarch64 LP64 calling conventions"
#endif

typedef uintptr_t arg_t;
typedef CK_RV (*generic_fn)(arg_t, arg_t, arg_t, arg_t, arg_t, arg_t, arg_t, arg_t);

/* Position of a function in CK_FUNCTION_LIST (0 = C_Initialize). */
#define SLOT(name) \
  ((offsetof(CK_FUNCTION_LIST, name) - offsetof(CK_FUNCTION_LIST, C_Initialize)) / sizeof(CK_C_Initialize))

static const char *const NAMES[] = {
#define CK_PKCS11_FUNCTION_INFO(name) #name,
#include "pkcs11f.h"
#undef CK_PKCS11_FUNCTION_INFO
};
#define NFUNCS (sizeof NAMES / sizeof NAMES[0])
_Static_assert(offsetof(CK_FUNCTION_LIST, C_Initialize) + NFUNCS * sizeof(CK_C_Initialize) == sizeof(CK_FUNCTION_LIST),
               "CK_FUNCTION_LIST is not the version followed by one pointer per pkcs11f.h entry");

#define ALL_FUNCTIONS ((unsigned)NFUNCS) /* the `*` of a rule */
#define MAX_RULES 64
#define MAX_CONTROL_BYTES 65536
#define NAME_BYTES 32

typedef struct {
  unsigned slot; /* or ALL_FUNCTIONS */
  CK_RV rv;
  long count; /* > 0: calls left; -1: forever; 0: spent */
  char id[40];
} fail_rule;

typedef struct {
  char name[NAME_BYTES];
  uint64_t calls;
  uint64_t injected;
} counter;
_Static_assert(sizeof(counter) == 48, "counter records are 48 bytes; test/support/fault-hsm.ts reads them");

static pthread_once_t once = PTHREAD_ONCE_INIT;
static void *real_handle;
static CK_FUNCTION_LIST_PTR real;
static char *control_path;
static counter *counters;

/* Everything below is guarded by `lock`: pkcs11js runs its *Async calls on libuv's thread pool. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static fail_rule rules[MAX_RULES];
static size_t nrules;
static long long delay_ns[NFUNCS + 1]; /* index ALL_FUNCTIONS: the `*` delay; -1: none */
static char *loaded;                   /* the control file content the rules come from */
static size_t loaded_len;
static struct stat loaded_stat;
static struct timespec loaded_at;      /* CLOCK_REALTIME when `loaded` was read */
static int have_loaded;

static const struct { const char *name; CK_RV rv; } CKR_NAMES[] = {
  {"CKR_GENERAL_ERROR", CKR_GENERAL_ERROR},
  {"CKR_FUNCTION_FAILED", CKR_FUNCTION_FAILED},
  {"CKR_DEVICE_ERROR", CKR_DEVICE_ERROR},
  {"CKR_DEVICE_MEMORY", CKR_DEVICE_MEMORY},
  {"CKR_DEVICE_REMOVED", CKR_DEVICE_REMOVED},
  {"CKR_SESSION_CLOSED", CKR_SESSION_CLOSED},
  {"CKR_SESSION_HANDLE_INVALID", CKR_SESSION_HANDLE_INVALID},
  {"CKR_TOKEN_NOT_PRESENT", CKR_TOKEN_NOT_PRESENT},
  {"CKR_CRYPTOKI_NOT_INITIALIZED", CKR_CRYPTOKI_NOT_INITIALIZED},
};

static int slot_of(const char *name, unsigned *slot) {
  if (strcmp(name, "*") == 0) {
    *slot = ALL_FUNCTIONS;
    return 1;
  }
  for (unsigned i = 0; i < NFUNCS; i++)
    if (strcmp(name, NAMES[i]) == 0) {
      *slot = i;
      return 1;
    }
  return 0;
}

static int parse_rv(const char *s, CK_RV *rv) {
  for (size_t i = 0; i < sizeof CKR_NAMES / sizeof CKR_NAMES[0]; i++)
    if (strcmp(s, CKR_NAMES[i].name) == 0) {
      *rv = CKR_NAMES[i].rv;
      return 1;
    }
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 0); /* base 0: 0x... hex or decimal */
  if (errno || end == s || *end) return 0;
  *rv = v;
  return 1;
}

/* Parses `text` into the rule tables; a line it cannot read is reported and skipped. */
static void parse(char *text) {
  fail_rule previous[MAX_RULES];
  size_t nprevious = nrules;
  memcpy(previous, rules, sizeof rules);
  nrules = 0;
  for (size_t i = 0; i <= NFUNCS; i++) delay_ns[i] = -1;

  int lineno = 0;
  for (char *line, *rest = text; (line = strsep(&rest, "\n"));) {
    lineno++;
    char *hash = strchr(line, '#');
    if (hash) *hash = 0;
    char *words[6];
    int n = 0;
    for (char *ws = NULL, *w = strtok_r(line, " \t\r", &ws); w && n < 6; w = strtok_r(NULL, " \t\r", &ws)) words[n++] = w;
    if (n == 0) continue;
    unsigned slot;
    int ok = 0;
    if (strcmp(words[0], "delay") == 0 && n == 3 && slot_of(words[1], &slot)) {
      char *end;
      double ms = strtod(words[2], &end); /* Node never calls setlocale, so the decimal point is '.' */
      if (end != words[2] && !*end && ms >= 0 && ms < 3.6e6) {
        delay_ns[slot] = (long long)(ms * 1e6 + 0.5);
        ok = 1;
      }
    } else if (strcmp(words[0], "fail") == 0 && n >= 3 && n <= 5 && slot_of(words[1], &slot) && nrules < MAX_RULES) {
      fail_rule r = {.slot = slot, .count = 1};
      ok = parse_rv(words[2], &r.rv);
      for (int k = 3; ok && k < n; k++) {
        char *end;
        if (strncmp(words[k], "id=", 3) == 0 && strlen(words[k] + 3) < sizeof r.id) {
          strcpy(r.id, words[k] + 3);
        } else {
          r.count = strtol(words[k], &end, 10);
          ok = end != words[k] && !*end && r.count >= -1;
        }
      }
      if (ok && r.id[0])
        for (size_t p = 0; p < nprevious; p++)
          if (strcmp(previous[p].id, r.id) == 0 && previous[p].slot == r.slot) r.count = previous[p].count;
      if (ok) rules[nrules++] = r;
    }
    if (!ok) fprintf(stderr, "fault-hsm: %s:%d: ignored a directive it cannot read\n", control_path, lineno);
  }
}

static void forget_rules(void) {
  nrules = 0;
  for (size_t i = 0; i <= NFUNCS; i++) delay_ns[i] = -1;
  free(loaded);
  loaded = NULL;
  have_loaded = 0;
}

static int same_file(const struct stat *a, const struct stat *b) {
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
         a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/*
 * Brings the rules up to date with the control file; called with `lock` held, once per call.
 * A stat per call is cheap; the file is read again only when the stat changed, or while the
 * stat alone cannot prove the content unchanged: timestamps are coarse (a kernel tick, or a
 * whole second on some filesystems) and inode numbers are reused, so a file rewritten soon
 * after we read it can look identical. Once its mtime is two seconds older than our read, any
 * later write would carry a later mtime, and the stat suffices.
 */
static void refresh(void) {
  struct stat st;
  if (stat(control_path, &st) != 0) {
    if (have_loaded) forget_rules();
    return;
  }
  if (have_loaded && same_file(&st, &loaded_stat) && st.st_mtim.tv_sec + 2 <= loaded_at.tv_sec) return;

  int fd = open(control_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  char *buf = malloc(MAX_CONTROL_BYTES + 1);
  ssize_t len = 0, got = 0;
  while (buf && len < MAX_CONTROL_BYTES && (got = read(fd, buf + len, MAX_CONTROL_BYTES - len)) > 0) len += got;
  /* fstat of the descriptor read: the stat then describes exactly the content we hold. */
  int ok = buf && got >= 0 && fstat(fd, &st) == 0;
  close(fd);
  if (!ok) {
    free(buf);
    return;
  }
  loaded_stat = st;
  loaded_at = now;
  buf[len] = 0;
  if (have_loaded && (size_t)len == loaded_len && memcmp(buf, loaded, len) == 0) {
    free(buf); /* unchanged content: keep the counts the rules have used up */
    return;
  }
  free(loaded);
  loaded = buf;
  loaded_len = len;
  have_loaded = 1;
  char *scratch = strdup(buf); /* parsing writes into the text it splits */
  if (scratch) parse(scratch);
  free(scratch);
}

/* Decides the fate of one call of `slot`: returns 1 and sets *rv when it must fail. */
static int decide(unsigned slot, long long *sleep_ns, CK_RV *rv) {
  pthread_mutex_lock(&lock);
  refresh();
  *sleep_ns = delay_ns[slot] >= 0 ? delay_ns[slot] : delay_ns[ALL_FUNCTIONS] >= 0 ? delay_ns[ALL_FUNCTIONS] : 0;
  int wildcard_ok = slot != SLOT(C_Initialize) && slot != SLOT(C_Finalize);
  fail_rule *hit = NULL;
  for (size_t i = 0; i < nrules; i++) {
    if (rules[i].count == 0) continue;
    if (rules[i].slot == slot) {
      hit = &rules[i];
      break;
    }
    if (rules[i].slot == ALL_FUNCTIONS && wildcard_ok && !hit) hit = &rules[i];
  }
  if (hit) {
    if (hit->count > 0) hit->count--;
    *rv = hit->rv;
  }
  pthread_mutex_unlock(&lock);
  return hit != NULL;
}

static void nap(long long ns) {
  struct timespec left = {.tv_sec = ns / 1000000000LL, .tv_nsec = ns % 1000000000LL};
  while (clock_nanosleep(CLOCK_MONOTONIC, 0, &left, &left) == EINTR) {
  }
}

static void open_counters(void) {
  size_t n = strlen(control_path) + sizeof ".counts";
  char *path = malloc(n);
  if (!path) return;
  snprintf(path, n, "%s.counts", control_path);
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  free(path);
  if (fd < 0) return;
  size_t size = NFUNCS * sizeof(counter);
  struct stat st;
  /* Never shrink or zero: other processes may share the file and count into it already. */
  if (fstat(fd, &st) == 0 && (st.st_size >= (off_t)size || ftruncate(fd, size) == 0)) {
    void *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map != MAP_FAILED) {
      counters = map;
      for (unsigned i = 0; i < NFUNCS; i++) strncpy(counters[i].name, NAMES[i], NAME_BYTES - 1);
    }
  }
  close(fd);
}

static void init(void) {
  const char *path = getenv("TETHER_FAULT_REAL_MODULE");
  if (!path || !*path) path = "/usr/lib/softhsm/libsofthsm2.so";
  real_handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!real_handle) {
    fprintf(stderr, "fault-hsm: cannot load the real module: %s\n", dlerror());
    return;
  }
  CK_C_GetFunctionList get = (CK_C_GetFunctionList)dlsym(real_handle, "C_GetFunctionList");
  if (!get || get(&real) != CKR_OK || !real) {
    fprintf(stderr, "fault-hsm: %s has no usable C_GetFunctionList\n", path);
    real = NULL;
    return;
  }
  const char *control = getenv("TETHER_FAULT_CONTROL");
  if (control && *control && (control_path = strdup(control))) {
    for (size_t i = 0; i <= NFUNCS; i++) delay_ns[i] = -1;
    open_counters();
  }
}

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList);

static CK_RV intercept(unsigned slot, arg_t a, arg_t b, arg_t c, arg_t d, arg_t e, arg_t f, arg_t g, arg_t h) {
  if (slot == SLOT(C_GetFunctionList)) return C_GetFunctionList((CK_FUNCTION_LIST_PTR_PTR)a); /* never faulted */
  if (control_path) {
    long long sleep_ns;
    CK_RV rv;
    int fail = decide(slot, &sleep_ns, &rv);
    if (counters) __atomic_fetch_add(&counters[slot].calls, 1, __ATOMIC_RELAXED);
    if (sleep_ns) nap(sleep_ns); /* outside the lock: concurrent calls each pay their own latency */
    if (fail) {
      if (counters) __atomic_fetch_add(&counters[slot].injected, 1, __ATOMIC_RELAXED);
      return rv;
    }
  }
  generic_fn fn = ((const generic_fn *)&real->C_Initialize)[slot];
  return fn ? fn(a, b, c, d, e, f, g, h) : CKR_FUNCTION_NOT_SUPPORTED;
}

#define CK_PKCS11_FUNCTION_INFO(name)                                                                     \
  static CK_RV w_##name(arg_t a, arg_t b, arg_t c, arg_t d, arg_t e, arg_t f, arg_t g, arg_t h) {         \
    return intercept(SLOT(name), a, b, c, d, e, f, g, h);                                                 \
  }
#include "pkcs11f.h"
#undef CK_PKCS11_FUNCTION_INFO

/* The cast through void (*)(void) is the deliberate type pun described at generic_fn. */
static CK_FUNCTION_LIST shim_list = {
  .version = {CRYPTOKI_VERSION_MAJOR, CRYPTOKI_VERSION_MINOR},
#define CK_PKCS11_FUNCTION_INFO(name) .name = (CK_##name)(void (*)(void))w_##name,
#include "pkcs11f.h"
#undef CK_PKCS11_FUNCTION_INFO
};

__attribute__((visibility("default"))) CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList) {
  pthread_once(&once, init);
  if (!real) return CKR_GENERAL_ERROR;
  if (!ppFunctionList) return CKR_ARGUMENTS_BAD;
  *ppFunctionList = &shim_list;
  return CKR_OK;
}

/* pkcs11js's close() dlcloses us; let the real module go too. */
__attribute__((destructor)) static void unload(void) {
  if (counters) munmap(counters, NFUNCS * sizeof(counter));
  if (real_handle) dlclose(real_handle);
  forget_rules();
  free(control_path);
}
