// Thin wrappers for glibc/Linux calls that Swift cannot import directly
// (they need _GNU_SOURCE or are raw syscalls).
#pragma once
#include <stddef.h>
#include <sys/types.h>

int liteio_fsetxattr(int fd, const char *name, const void *value, size_t size);
ssize_t liteio_fgetxattr(int fd, const char *name, void *value, size_t size);
int liteio_fremovexattr(int fd, const char *name);

// openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS:
// the kernel refuses any path that leaves dirfd or crosses a symlink.
int liteio_open_beneath(int dirfd, const char *path, int flags, mode_t mode);

// renameat2(2) with RENAME_NOREPLACE.
int liteio_rename_noreplace(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);

// An anonymous file (O_TMPFILE) in dirfd, invisible until linked.
int liteio_open_tmpfile(int dirfd);
// Gives an O_TMPFILE file a name.
int liteio_link_fd(int fd, int newdirfd, const char *newpath);

// Keeps secrets out of core dumps: no core file for this process, and
// the given pages excluded from any dump taken anyway.
void liteio_disable_core_dumps(void);
void liteio_exclude_from_dump(void *addr, size_t len);

// Appends `length` bytes of `in` (from `offset`) to `out` at its current position, inside the
// kernel (copy_file_range: a reflink on XFS/btrfs, an offloaded copy on CephFS/NFS).
// Returns 0, or -1 with errno.
int liteio_copy_range(int in, unsigned long long offset, int out, unsigned long long length);

// Asks the kernel to send SIGTERM to this process when its parent (the supervisor) dies.
void liteio_die_with_parent(void);

// POSIX shared memory for counters that several worker processes add to.
// Returns a zeroed mapping of `size` bytes (created when `create`), or NULL.
void *liteio_map_shared(const char *name, size_t size, int create);
void liteio_unlink_shared(const char *name);
// Atomic add / load on a counter that may live in shared memory.
void liteio_atomic_add(unsigned long long *counter, long long delta);
unsigned long long liteio_atomic_load(const unsigned long long *counter);
