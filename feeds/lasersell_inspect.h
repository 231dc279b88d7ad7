/* lasersell_inspect.h - the state of the LaserSell inspect rules (feeds/lasersell_inspect.c):
 * positions followed from position_opened to position_closed, pnl_update cadence */
#ifndef WSTAPE_LASERSELL_INSPECT_H
#define WSTAPE_LASERSELL_INSPECT_H

#include "feeds/feed_inspect.h"

struct ls_position {
	int64_t id; /* -1: empty slot */
	uint64_t open_recno, close_recno;
	int64_t open_ns;
	int64_t last_pnl_ns;
	uint64_t last_pnl_recno;
	uint32_t last_pnl_conn;
	int closed;
	int unselected; /* opened on a channel outside --channel: followed only */
};

struct lasersell_inspect {
	int64_t pnl_flush_ms; /* hello_ok limits.pnl_flush_ms; -1 unknown */
	struct hist pnl_gap; /* pnl_update intervals of a position, one connection */
	struct ls_position *pos, *pos_spare; /* open addressing; the spare for sweeps */
	uint32_t pos_used;
	uint64_t pos_opened, pos_closed, pos_unknown_events, pos_dropped;
};

#endif
