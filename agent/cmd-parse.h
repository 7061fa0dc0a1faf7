/* cmd-parse.h - parsing of the Assuan command lines, without Assuan
 *
 * Pure functions: a command line (or a part of it) in, values or a
 * gpg_error_t out.  No I/O, no Assuan context, no global state, so the
 * unit tests and the fuzzer (tests/fuzz/fuzz-cmd-parse.c) call them
 * directly.  Functions that can fail with a reason the client should see
 * set *R_DESC to a static English description (or NULL on success);
 * command.c passes it to assuan_set_error.
 *
 * A "line" is what libassuan hands a command handler: the text after the
 * command name, NUL-terminated, without the newline.  Options come first
 * ("--name" or "--name=value", separated by spaces), an optional "--" ends
 * them, then the arguments.
 */
#ifndef DUALSCD_AGENT_CMD_PARSE_H
#define DUALSCD_AGENT_CMD_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <gpg-error.h>

/* Longest option name check_options accepts, "--" included. */
#define CMDP_OPTNAME_MAX 63

/* The value of option NAME ("--name") among LINE's leading options,
 * copied to BUF (BUFSIZE > 0; a longer value is truncated): NULL when the
 * option is absent, "" when it has no "=value". */
const char *cmdp_option_value(const char *line, const char *name, char *buf,
                              size_t bufsize);

/* Whether LINE's leading options include NAME (with or without value). */
int cmdp_has_option(const char *line, const char *name);

/* Whether WORD is one of the space-separated words of LIST (exact,
 * case-sensitive; WORDLEN bytes of WORD are compared). */
int cmdp_list_has(const char *list, const char *word, size_t wordlen);

/* Skips the leading options of LINE; *R_OFF is the offset of the first
 * argument (after the options, an optional "--" and spaces).  Options not
 * in ALLOWED (space-separated "--name" words) are ignored, as GnuPG's
 * scdaemon ignores them; the handler looks only for those it knows. */
gpg_error_t cmdp_check_options(const char *line, const char *allowed, size_t *r_off,
                               const char **r_desc);

/* Length of the first word of S (up to a space or the end). */
size_t cmdp_word_len(const char *s);

/* Copies the first word of S to BUF (BUFSIZE > 0).  GPG_ERR_ASS_PARAMETER
 * when there is none, GPG_ERR_TOO_LARGE when it does not fit. */
gpg_error_t cmdp_first_word(const char *s, char *buf, size_t bufsize,
                            const char **r_desc);

/* Decodes the hex string HEX (even number of hex digits, trailing spaces
 * ignored, nothing else allowed) into a new malloc'd buffer (*R_LEN
 * bytes, one spare byte after them).  GPG_ERR_INV_DATA for a bad digit or
 * an odd count; an empty string gives an empty buffer. */
gpg_error_t cmdp_hex_decode(const char *hex, uint8_t **r_buf, size_t *r_len,
                            const char **r_desc);

/* Decodes SETATTR's percent-plus escaping in place: "%XX" (two hex
 * digits) is that byte (%00 included), '+' is a space, a '%' not followed
 * by two hex digits stays as it is.  Returns the decoded length (the
 * result may contain NULs; a NUL is stored after it). */
size_t cmdp_unescape(char *s);

/* Checks a key id: OPENPGP.1..OPENPGP.3 (prefix in any case) or a keygrip
 * of exactly 40 hex digits, followed by a space or the end.
 * GPG_ERR_INV_ID otherwise. */
gpg_error_t cmdp_check_keyid(const char *id, const char **r_desc);

/* The slot of an OPENPGP.N key id that passed cmdp_check_keyid, 0 for a
 * keygrip. */
int cmdp_keyid_openpgp_slot(const char *id);

/* --hash=NAME in LINE as a libgcrypt algorithm (0 for "none"); GCRY_MD_SHA1
 * without the option.  GPG_ERR_ASS_PARAMETER for an unknown name. */
gpg_error_t cmdp_parse_hash(const char *line, int *r_algo, const char **r_desc);

/* GENKEY's --timestamp value: ISO "YYYYMMDDTHHMMSS" (UTC, from 1970 to
 * 2106-02-07T06:28:15) or decimal seconds since the epoch up to
 * 2^32-1 (an OpenPGP timestamp).  GPG_ERR_INV_TIME otherwise. */
gpg_error_t cmdp_parse_timestamp(const char *s, time_t *r_t, const char **r_desc);

/* A decimal number in S (only digits, no sign, no spaces) from MIN to MAX.
 * GPG_ERR_ASS_PARAMETER otherwise. */
gpg_error_t cmdp_parse_uint(const char *s, unsigned long min, unsigned long max,
                            unsigned long *r_val, const char **r_desc);

/* GETINFO's line: the subcommand name (its offset is 0 after leading
 * spaces are skipped: *R_NAME points to it, *R_NAMELEN is its length) and
 * its argument (*R_ARG, after one space, or the empty tail). */
void cmdp_split_getinfo(const char *line, const char **r_name, size_t *r_namelen,
                        const char **r_arg);

/* GETINFO cmd_has_option's argument "CMD OPT" (OPT without "--"): CMD to
 * CMDBUF and "--OPT" to OPTBUF.  GPG_ERR_ASS_PARAMETER when one is missing
 * or too long for its buffer. */
gpg_error_t cmdp_cmd_has_option_args(const char *arg, char *cmdbuf, size_t cmdsize,
                                     char *optbuf, size_t optsize, const char **r_desc);

/* KEYINFO --list=WHAT: the usage letter to filter on ('s', 'e' or 'a', the
 * first letter of WHAT), 0 without a filter. */
char cmdp_keyinfo_filter(const char *line);

/* PASSWD's flags from LINE's options. */
#define CMDP_PASSWD_RESET 1u
#define CMDP_PASSWD_CLEAR 2u
#define CMDP_PASSWD_NULLPIN 4u

/* PASSWD's line parsed: "[--reset] [--clear] [--nullpin] CHVNO". */
struct cmdp_passwd
{
  char chvno[16];
  unsigned int flags; /* CMDP_PASSWD_* */
};

/* Parses PASSWD's line.  GPG_ERR_UNKNOWN_OPTION, GPG_ERR_NOT_SUPPORTED
 * (--nullpin), GPG_ERR_ASS_PARAMETER (no or overlong CHV number),
 * GPG_ERR_UNSUPPORTED_OPERATION (--clear with --reset). */
gpg_error_t cmdp_parse_passwd(const char *line, struct cmdp_passwd *r_pw,
                              const char **r_desc);

/* GENKEY's line parsed: "[--force] [--timestamp=T] [--algo=A] KEYNO". */
struct cmdp_genkey
{
  char keyref[16];
  char algo[32]; /* "" without --algo */
  int force;
  time_t created; /* 0 without --timestamp (or with 0) */
};

gpg_error_t cmdp_parse_genkey(const char *line, struct cmdp_genkey *r_gk,
                              const char **r_desc);

/* SETATTR's line: "NAME VALUE" split and unescaped into a new buffer:
 * *R_NAME (NUL-terminated) and *R_VALUE of *R_VALUELEN bytes both point
 * into *R_BUF, which the caller frees.  GPG_ERR_ASS_PARAMETER when the
 * value is missing. */
gpg_error_t cmdp_parse_setattr(const char *line, char **r_buf, const char **r_name,
                               const uint8_t **r_value, size_t *r_valuelen,
                               const char **r_desc);

#endif /* DUALSCD_AGENT_CMD_PARSE_H */
