#include "version.h"

#ifndef CAIRN_COMMIT
#define CAIRN_COMMIT "unknown"
#endif

const char *cairn_version(void)
{
	return CAIRN_VERSION;
}

const char *cairn_commit(void)
{
	return CAIRN_COMMIT;
}
