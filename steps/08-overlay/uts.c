/*
 * uts.c: a hostname of its own, from step 01 on.
 *
 * The UTS namespace holds the two names uname(2) reports besides the
 * kernel's own: the hostname and the NIS domain name. The child's
 * namespace starts as a copy of the host's; from the calls below on, only
 * the container sees its names, and the host keeps its own.
 *
 * Man pages: uts_namespaces(7), sethostname(2), setdomainname(2),
 * uname(2).
 */
#include <string.h>
#include <unistd.h>

#include "step.h"

/*
 * The hostname the user chose, and the domain name reset to the kernel's
 * "(none)", so that the container does not carry the host's.
 */
void
setup_uts(const char *hostname)
{
    /* sethostname(2) */
    must(sethostname(hostname, strlen(hostname)), "sethostname(\"%s\", %zu)",
         hostname, strlen(hostname));
    /* setdomainname(2) */
    must(setdomainname("(none)", 6), "setdomainname(\"(none)\", 6)");
}
