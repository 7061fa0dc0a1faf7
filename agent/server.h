/* server.h - Assuan sessions: the pipe to gpg-agent and the socket */
#ifndef DUALSCD_AGENT_SERVER_H
#define DUALSCD_AGENT_SERVER_H

#include <sys/types.h>

#include <gpg-error.h>

#include "options.h"

/* Creates the listening socket (GnuPG's socket directory for the home
 * directory, else the home directory itself) and remembers its name. */
gpg_error_t server_create_socket(const struct options *opt, int *r_fd);

/* The socket's path ("" before server_create_socket). */
const char *server_socket_name(void);

/* Accepts socket sessions in a thread of their own. */
gpg_error_t server_start_listener(int fd);

/* Runs the pipe session on fd 0/1 until EOF, BYE or KILLSCD. */
gpg_error_t server_run_pipe(void);

/* Blocks until no socket session is left (FOREVER: until KILLSCD), or
 * KILLSCD ended a session. */
void server_wait_idle(int forever);

/* Number of sessions running now. */
unsigned int server_connection_count(void);

/* KILLSCD: the daemon exits once the requesting session has ended. */
void server_request_kill(void);

/* Removes the socket file. */
void server_cleanup(void);

#endif /* DUALSCD_AGENT_SERVER_H */
