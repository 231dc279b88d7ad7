/* raw_client.c - the client half of the raw feed: nothing but what every feed does (the
 * --send messages after each connect, the URL as given); frames are journaled as they come */
#include "feeds/feed_client.h"

const struct feed_client_ops raw_client_ops = {
	.opaque = 1,
};
