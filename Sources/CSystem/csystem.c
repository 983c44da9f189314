#define _GNU_SOURCE
#include "csystem.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <linux/openat2.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/xattr.h>

int liteio_fsetxattr(int fd, const char *name, const void *value, size_t size) {
    return fsetxattr(fd, name, value, size, 0);
}

ssize_t liteio_fgetxattr(int fd, const char *name, void *value, size_t size) {
    return fgetxattr(fd, name, value, size);
}

int liteio_fremovexattr(int fd, const char *name) {
    return fremovexattr(fd, name);
}

int liteio_open_beneath(int dirfd, const char *path, int flags, mode_t mode) {
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)(flags | O_CLOEXEC);
    how.mode = ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

int liteio_rename_noreplace(int olddirfd, const char *oldpath, int newdirfd, const char *newpath) {
    return renameat2(olddirfd, oldpath, newdirfd, newpath, RENAME_NOREPLACE);
}

int liteio_open_tmpfile(int dirfd) {
    return openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
}

int liteio_link_fd(int fd, int newdirfd, const char *newpath) {
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    return linkat(AT_FDCWD, proc, newdirfd, newpath, AT_SYMLINK_FOLLOW);
}

void liteio_disable_core_dumps(void) {
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

void liteio_exclude_from_dump(void *addr, size_t len) {
    long page = sysconf(_SC_PAGESIZE);
    uintptr_t start = (uintptr_t)addr & ~(uintptr_t)(page - 1);
    madvise((void *)start, len + ((uintptr_t)addr - start), MADV_DONTDUMP);
}

int liteio_copy_range(int in, unsigned long long offset, int out, unsigned long long length) {
    loff_t from = (loff_t)offset;
    while (length > 0) {
        size_t chunk = length > (1ULL << 30) ? (1UL << 30) : (size_t)length;
        ssize_t n = copy_file_range(in, &from, out, NULL, chunk, 0);
        if (n < 0) return -1;
        if (n == 0) { errno = EIO; return -1; }  /* source shorter than announced */
        length -= (unsigned long long)n;
    }
    return 0;
}

void liteio_die_with_parent(void) {
    prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
}

void *liteio_map_shared(const char *name, size_t size, int create) {
    int fd = shm_open(name, O_RDWR | (create ? O_CREAT | O_EXCL : 0), 0600);
    if (fd < 0) return NULL;
    if (create && ftruncate(fd, (off_t)size) != 0) { close(fd); return NULL; }
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    return p == MAP_FAILED ? NULL : p;
}

void liteio_unlink_shared(const char *name) { shm_unlink(name); }

void liteio_atomic_add(unsigned long long *counter, long long delta) {
    __atomic_fetch_add(counter, (unsigned long long)delta, __ATOMIC_RELAXED);
}

unsigned long long liteio_atomic_load(const unsigned long long *counter) {
    return __atomic_load_n(counter, __ATOMIC_RELAXED);
}
