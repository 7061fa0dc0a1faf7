/* command.h - the Assuan commands of the card daemon */
#ifndef DUALSCD_AGENT_COMMAND_H
#define DUALSCD_AGENT_COMMAND_H

#include <sys/types.h>

#include <assuan.h>
#include <gpg-error.h>

#include "options.h"

/* Commands need the options (deny-admin...); set once at start-up. */
void command_set_options(const struct options *opt);

/* Prepares CTX (an initialised Assuan server): registers every command
 * with its help string, the OPTION handler, the greeting, and a session
 * whose agent PID (for event-signal) is PEER_PID.  Free with
 * command_session_end. */
gpg_error_t command_session_start(assuan_context_t ctx, pid_t peer_pid);

/* Releases the session state of CTX; returns 1 when the session asked
 * for the daemon to stop (KILLSCD). */
int command_session_end(assuan_context_t ctx);

#endif /* DUALSCD_AGENT_COMMAND_H */
