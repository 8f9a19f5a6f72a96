/* The one IQN prefix of every name mirrortest gives itself: its targets
 * (mirror-emu, the pair's host and mirror ports) and its initiators
 * (mirror-send, mirror-load, mirror-failover).  RFC 3720 3.2.6.3.1: a
 * date the naming authority held the domain, then the reversed domain. */
#ifndef MIRROR_BASE_IQN_H
#define MIRROR_BASE_IQN_H

#define MIRROR_IQN_PREFIX "iqn.2026-11.org.mirrortest"

#endif
