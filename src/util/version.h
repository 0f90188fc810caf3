/* Which build this is: the version and the git commit it was built from. */
#ifndef CAIRN_VERSION_H
#define CAIRN_VERSION_H

/* "0.1.0". */
const char *cairn_version(void);
/* The commit's short hash, with "-dirty" when the tree had changes, or "unknown" outside
 * a git checkout. */
const char *cairn_commit(void);

#endif
