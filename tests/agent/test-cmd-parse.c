/* test-cmd-parse.c - agent/cmd-parse.c with hostile command lines */
#include <gcrypt.h>

#include "../../agent/cmd-parse.h"
#include "../unit/check.h"

static void
test_option_value(void)
{
  char buf[8];

  CHECK_STR(cmdp_option_value("--demand=D2760001 openpgp", "--demand", buf, sizeof buf),
            "D276000");
  CHECK_STR(cmdp_option_value("  --force --algo=rsa2048 3", "--algo", buf, sizeof buf),
            "rsa2048");
  CHECK_STR(cmdp_option_value("--force 3", "--force", buf, sizeof buf), "");
  CHECK_STR(cmdp_option_value("--hash= x", "--hash", buf, sizeof buf), "");
  /* A prefix is not the option, nor is an argument after "--". */
  CHECK(!cmdp_option_value("--forced 3", "--force", buf, sizeof buf));
  CHECK(!cmdp_option_value("--for 3", "--force", buf, sizeof buf));
  CHECK(!cmdp_option_value("-- --force", "--force", buf, sizeof buf));
  CHECK(!cmdp_option_value("3 --force", "--force", buf, sizeof buf));
  CHECK(!cmdp_option_value("", "--force", buf, sizeof buf));
  CHECK(cmdp_has_option("--info --info-only x", "--info-only"));
  CHECK(!cmdp_has_option("--info-only x", "--info"));
}

static void
test_list_has(void)
{
  CHECK(cmdp_list_has("--force --timestamp --algo", "--algo", 6));
  CHECK(!cmdp_list_has("--force --timestamp --algo", "--alg", 5));
  CHECK(!cmdp_list_has("--force --timestamp", "--time", 6));
  CHECK(!cmdp_list_has("--xforce", "--force", 7));
  CHECK(!cmdp_list_has("", "--force", 7));
  CHECK(!cmdp_list_has("--a", "", 0));
}

static void
test_check_options(void)
{
  const char *desc;
  size_t off;

  CHECK_OK(cmdp_check_options("--hash=sha256 OPENPGP.1", "--hash", &off, &desc));
  CHECK_INT(off, 14);
  CHECK(desc == NULL);
  CHECK_OK(cmdp_check_options("  -- --force", "", &off, &desc));
  CHECK_STR(&"  -- --force"[off], "--force");
  CHECK_OK(cmdp_check_options("OPENPGP.3", "", &off, &desc));
  CHECK_INT(off, 0);
  CHECK_OK(cmdp_check_options("--force   ", "--force", &off, &desc));
  CHECK_INT(off, 10);
  /* Unknown options are skipped, as GnuPG's scdaemon does. */
  CHECK_OK(cmdp_check_options("--forc 3", "--force", &off, &desc));
  CHECK_STR(&"--forc 3"[off], "3");
  CHECK_OK(cmdp_check_options("--force 3", "", &off, &desc));
  CHECK_STR(&"--force 3"[off], "3");
  CHECK_OK(cmdp_check_options("--=3 x", "--force", &off, &desc));
  CHECK_STR(&"--=3 x"[off], "x");
  CHECK_OK(cmdp_check_options("---force", "--force", &off, &desc));
  CHECK_INT(off, 8);
}

static void
test_first_word(void)
{
  char buf[4];
  const char *desc;

  CHECK_OK(cmdp_first_word("  abc def", buf, sizeof buf, &desc));
  CHECK_STR(buf, "abc");
  CHECK_ERR(cmdp_first_word("abcd", buf, sizeof buf, &desc), GPG_ERR_TOO_LARGE);
  CHECK_STR(buf, "");
  CHECK_ERR(cmdp_first_word("   ", buf, sizeof buf, &desc), GPG_ERR_ASS_PARAMETER);
  CHECK_INT(cmdp_word_len("ab cd"), 2);
}

static void
test_hex(void)
{
  const char *desc;
  uint8_t *buf;
  size_t len;

  CHECK_OK(cmdp_hex_decode("00a4040006D27600012401  ", &buf, &len, &desc));
  CHECK_MEM(buf, len, "\x00\xa4\x04\x00\x06\xd2\x76\x00\x01\x24\x01", 11);
  free(buf);
  CHECK_OK(cmdp_hex_decode("", &buf, &len, &desc));
  CHECK_INT(len, 0);
  free(buf);
  CHECK_ERR(cmdp_hex_decode("abc", &buf, &len, &desc), GPG_ERR_ASS_PARAMETER);
  CHECK_STR(desc, "odd number of hex digits in argument");
  CHECK(buf == NULL && len == 0);
  CHECK_ERR(cmdp_hex_decode("zz", &buf, &len, &desc), GPG_ERR_ASS_PARAMETER);
  CHECK_STR(desc, "invalid hex digit in argument");
  CHECK_ERR(cmdp_hex_decode("0 0", &buf, &len, &desc), GPG_ERR_ASS_PARAMETER);
  CHECK_ERR(cmdp_hex_decode(" 00", &buf, &len, &desc), GPG_ERR_ASS_PARAMETER);
  CHECK_ERR(cmdp_hex_decode("0x00", &buf, &len, &desc), GPG_ERR_ASS_PARAMETER);
  CHECK_ERR(cmdp_hex_decode("\xff\xff", &buf, &len, &desc), GPG_ERR_ASS_PARAMETER);
  /* A NUL ends the string: what follows it is not seen. */
  CHECK_OK(cmdp_hex_decode("41\0zz", &buf, &len, &desc));
  CHECK_MEM(buf, len, "A", 1);
  free(buf);
}

static void
test_unescape(void)
{
  char s1[] = "Doe<<John+Q%2e%20", s2[] = "%zz%4%", s3[] = "a%00b", s4[] = "%0",
       s5[] = "100%25+", s6[] = "";

  CHECK_INT(cmdp_unescape(s1), 13);
  CHECK_STR(s1, "Doe<<John Q. ");
  CHECK_INT(cmdp_unescape(s2), 6);
  CHECK_STR(s2, "%zz%4%");
  CHECK_INT(cmdp_unescape(s3), 3);
  CHECK_MEM(s3, 3, "a\0b", 3);
  CHECK_INT(cmdp_unescape(s4), 2);
  CHECK_STR(s4, "%0");
  CHECK_INT(cmdp_unescape(s5), 5);
  CHECK_STR(s5, "100% ");
  CHECK_INT(cmdp_unescape(s6), 0);
}

static void
test_keyid(void)
{
  const char *desc;

  CHECK_OK(cmdp_check_keyid("OPENPGP.1", &desc));
  CHECK_OK(cmdp_check_keyid("openpgp.3 extra", &desc));
  CHECK_OK(cmdp_check_keyid("0123456789abcdefABCDEF0123456789abcdef01", &desc));
  CHECK_ERR(cmdp_check_keyid("OPENPGP.4", &desc), GPG_ERR_INV_ID);
  CHECK_STR(desc, "key id must be OPENPGP.1, .2, .3 or a keygrip");
  CHECK_ERR(cmdp_check_keyid("OPENPGP.0", &desc), GPG_ERR_INV_ID);
  CHECK_ERR(cmdp_check_keyid("OPENPGP.12", &desc), GPG_ERR_INV_ID);
  CHECK_ERR(cmdp_check_keyid("OPENPGP.", &desc), GPG_ERR_INV_ID);
  CHECK_ERR(cmdp_check_keyid("", &desc), GPG_ERR_INV_ID);
  CHECK_ERR(cmdp_check_keyid("0123456789abcdef0123456789abcdef0123456", &desc),
            GPG_ERR_INV_ID);
  CHECK_ERR(cmdp_check_keyid("0123456789abcdef0123456789abcdef012345678", &desc),
            GPG_ERR_INV_ID);
  CHECK_ERR(cmdp_check_keyid("g123456789abcdef0123456789abcdef01234567", &desc),
            GPG_ERR_INV_ID);
  CHECK_ERR(cmdp_check_keyid("&0123456789abcdef0123456789abcdef0123456", &desc),
            GPG_ERR_INV_ID);
  CHECK_INT(cmdp_keyid_openpgp_slot("OpenPGP.2"), 2);
  CHECK_INT(cmdp_keyid_openpgp_slot("0123456789abcdef0123456789abcdef01234567"), 0);
  CHECK_INT(cmdp_keyid_openpgp_slot("OPENPGP.9"), 0);
}

static void
test_hash(void)
{
  const char *desc;
  int algo;

  CHECK_OK(cmdp_parse_hash("OPENPGP.1", &algo, &desc));
  CHECK_INT(algo, GCRY_MD_SHA1);
  CHECK_OK(cmdp_parse_hash("--hash=SHA512 OPENPGP.1", &algo, &desc));
  CHECK_INT(algo, GCRY_MD_SHA512);
  CHECK_OK(cmdp_parse_hash("--hash=none OPENPGP.3", &algo, &desc));
  CHECK_INT(algo, 0);
  CHECK_ERR(cmdp_parse_hash("--hash=sha3 OPENPGP.1", &algo, &desc),
            GPG_ERR_ASS_PARAMETER);
  CHECK_STR(desc, "invalid hash algorithm");
  CHECK_ERR(cmdp_parse_hash("--hash OPENPGP.1", &algo, &desc), GPG_ERR_ASS_PARAMETER);
  /* Truncated to the buffer: must not match "sha256". */
  CHECK_ERR(cmdp_parse_hash("--hash=sha256sha256sha256 x", &algo, &desc),
            GPG_ERR_ASS_PARAMETER);
}

static void
test_timestamp(void)
{
  const char *desc;
  time_t t;

  CHECK_OK(cmdp_parse_timestamp("20240101T000000", &t, &desc));
  CHECK_INT(t, 1704067200);
  CHECK_OK(cmdp_parse_timestamp("19700101T000000", &t, &desc));
  CHECK_INT(t, 0);
  CHECK_OK(cmdp_parse_timestamp("21060207T062815", &t, &desc));
  CHECK_INT(t, 4294967295LL);
  CHECK_OK(cmdp_parse_timestamp("1704067200", &t, &desc));
  CHECK_INT(t, 1704067200);
  CHECK_OK(cmdp_parse_timestamp("4294967295", &t, &desc));
  CHECK_ERR(cmdp_parse_timestamp("4294967296", &t, &desc), GPG_ERR_INV_TIME);
  CHECK_STR(desc, "--timestamp: want YYYYMMDDTHHMMSS or seconds");
  CHECK_INT(t, 0);
  CHECK_ERR(cmdp_parse_timestamp("99999999999999999999999", &t, &desc), GPG_ERR_INV_TIME);
  CHECK_ERR(cmdp_parse_timestamp("21060207T062816", &t, &desc), GPG_ERR_INV_TIME);
  CHECK_ERR(cmdp_parse_timestamp("19691231T235959", &t, &desc), GPG_ERR_INV_TIME);
  CHECK_ERR(cmdp_parse_timestamp("20240230T000000", &t, &desc), GPG_ERR_INV_TIME);
  CHECK_ERR(cmdp_parse_timestamp("20241301T000000", &t, &desc), GPG_ERR_INV_TIME);
  CHECK_ERR(cmdp_parse_timestamp("20240100T000000", &t, &desc), GPG_ERR_INV_TIME);
  CHECK_ERR(cmdp_parse_timestamp("20240101T240000", &t, &desc), GPG_ERR_INV_TIME);
  CHECK_ERR(cmdp_parse_timestamp("20240101T006000", &t, &desc), GPG_ERR_INV_TIME);
  CHECK_ERR(cmdp_parse_timestamp("2024-1-1T000000", &t, &desc), GPG_ERR_INV_TIME);
  CHECK_ERR(cmdp_parse_timestamp("2024 101T000000", &t, &desc), GPG_ERR_INV_TIME);
  CHECK_ERR(cmdp_parse_timestamp("+2024101T000000", &t, &desc), GPG_ERR_INV_TIME);
  CHECK_ERR(cmdp_parse_timestamp("20240101T00000", &t, &desc), GPG_ERR_INV_TIME);
  CHECK_ERR(cmdp_parse_timestamp("20240101 000000", &t, &desc), GPG_ERR_INV_TIME);
  CHECK_ERR(cmdp_parse_timestamp("-1", &t, &desc), GPG_ERR_INV_TIME);
  CHECK_ERR(cmdp_parse_timestamp(" 1", &t, &desc), GPG_ERR_INV_TIME);
  CHECK_ERR(cmdp_parse_timestamp("1x", &t, &desc), GPG_ERR_INV_TIME);
  CHECK_ERR(cmdp_parse_timestamp("", &t, &desc), GPG_ERR_INV_TIME);
}

static void
test_uint(void)
{
  unsigned long v;

  CHECK_OK(cmdp_parse_uint("255", 1, 255, &v, NULL));
  CHECK_INT(v, 255);
  CHECK_OK(cmdp_parse_uint("0001", 1, 255, &v, NULL));
  CHECK_INT(v, 1);
  CHECK_ERR(cmdp_parse_uint("256", 1, 255, &v, NULL), GPG_ERR_ASS_PARAMETER);
  CHECK_ERR(cmdp_parse_uint("0", 1, 255, &v, NULL), GPG_ERR_ASS_PARAMETER);
  CHECK_ERR(cmdp_parse_uint("", 1, 255, &v, NULL), GPG_ERR_ASS_PARAMETER);
  CHECK_ERR(cmdp_parse_uint("+5", 1, 255, &v, NULL), GPG_ERR_ASS_PARAMETER);
  CHECK_ERR(cmdp_parse_uint(" 5", 1, 255, &v, NULL), GPG_ERR_ASS_PARAMETER);
  CHECK_ERR(cmdp_parse_uint("5 ", 1, 255, &v, NULL), GPG_ERR_ASS_PARAMETER);
  CHECK_ERR(cmdp_parse_uint("18446744073709551617", 1, 255, &v, NULL),
            GPG_ERR_ASS_PARAMETER);
  CHECK_INT(v, 0);
}

static void
test_getinfo(void)
{
  const char *name, *arg;
  size_t n;
  char cmd[8], opt[8];
  const char *desc;

  cmdp_split_getinfo("  cmd_has_option PKSIGN hash", &name, &n, &arg);
  CHECK_INT(n, 14);
  CHECK_STR(arg, "PKSIGN hash");
  cmdp_split_getinfo("version", &name, &n, &arg);
  CHECK_INT(n, 7);
  CHECK_STR(arg, "");
  cmdp_split_getinfo("", &name, &n, &arg);
  CHECK_INT(n, 0);
  CHECK_OK(
      cmdp_cmd_has_option_args("PKSIGN hash", cmd, sizeof cmd, opt, sizeof opt, &desc));
  CHECK_STR(cmd, "PKSIGN");
  CHECK_STR(opt, "--hash");
  CHECK_ERR(cmdp_cmd_has_option_args("PKSIGN", cmd, sizeof cmd, opt, sizeof opt, &desc),
            GPG_ERR_ASS_PARAMETER);
  CHECK_STR(desc, "usage: cmd_has_option CMD OPT");
  CHECK_ERR(
      cmdp_cmd_has_option_args("PKSIGNXX hash", cmd, sizeof cmd, opt, sizeof opt, &desc),
      GPG_ERR_ASS_PARAMETER);
  CHECK_ERR(cmdp_cmd_has_option_args("PKSIGN hashhash", cmd, sizeof cmd, opt, sizeof opt,
                                     &desc),
            GPG_ERR_ASS_PARAMETER);
  CHECK_INT(cmdp_keyinfo_filter("--list=sign"), 's');
  CHECK_INT(cmdp_keyinfo_filter("--list --data"), 0);
  CHECK_INT(cmdp_keyinfo_filter("--list= x"), 0);
  CHECK_INT(cmdp_keyinfo_filter("x --list=auth"), 0);
}

static void
test_passwd(void)
{
  struct cmdp_passwd pw;
  const char *desc;

  CHECK_OK(cmdp_parse_passwd("--reset OPENPGP.1", &pw, &desc));
  CHECK_STR(pw.chvno, "OPENPGP.1");
  CHECK_INT(pw.flags, CMDP_PASSWD_RESET);
  CHECK_OK(cmdp_parse_passwd("--clear 1", &pw, &desc));
  CHECK_INT(pw.flags, CMDP_PASSWD_CLEAR);
  CHECK_OK(cmdp_parse_passwd("3", &pw, &desc));
  CHECK_INT(pw.flags, 0);
  CHECK_ERR(cmdp_parse_passwd("--clear --reset 1", &pw, &desc),
            GPG_ERR_UNSUPPORTED_OPERATION);
  CHECK_ERR(cmdp_parse_passwd("--nullpin 1", &pw, &desc), GPG_ERR_NOT_SUPPORTED);
  CHECK_OK(cmdp_parse_passwd("--resetx 1", &pw, &desc));
  CHECK_INT(pw.flags, 0);
  CHECK_ERR(cmdp_parse_passwd("--reset", &pw, &desc), GPG_ERR_ASS_PARAMETER);
  CHECK_STR(desc, "CHV number missing");
  CHECK_ERR(cmdp_parse_passwd("0123456789abcdef", &pw, &desc), GPG_ERR_ASS_PARAMETER);
}

static void
test_genkey(void)
{
  struct cmdp_genkey gk;
  const char *desc;

  CHECK_OK(cmdp_parse_genkey("--force --timestamp=20240101T000000 --algo=ed25519 1", &gk,
                             &desc));
  CHECK_STR(gk.keyref, "1");
  CHECK_STR(gk.algo, "ed25519");
  CHECK_INT(gk.force, 1);
  CHECK_INT(gk.created, 1704067200);
  CHECK_OK(cmdp_parse_genkey("OPENPGP.2", &gk, &desc));
  CHECK_INT(gk.force, 0);
  CHECK_INT(gk.created, 0);
  CHECK_STR(gk.algo, "");
  CHECK_ERR(cmdp_parse_genkey("--timestamp=20241332T000000 1", &gk, &desc),
            GPG_ERR_INV_TIME);
  CHECK_ERR(cmdp_parse_genkey("--timestamp 1", &gk, &desc), GPG_ERR_INV_TIME);
  CHECK_ERR(cmdp_parse_genkey("--force", &gk, &desc), GPG_ERR_ASS_PARAMETER);
  CHECK_STR(desc, "key number missing");
  CHECK_OK(cmdp_parse_genkey("--forc 1", &gk, &desc));
  CHECK_ERR(cmdp_parse_genkey("12345678901234567", &gk, &desc), GPG_ERR_ASS_PARAMETER);
}

static void
test_setattr(void)
{
  const char *desc, *name;
  const uint8_t *value;
  size_t len;
  char *buf;

  CHECK_OK(cmdp_parse_setattr("  DISP-NAME   Doe<<John+%00x", &buf, &name, &value, &len,
                              &desc));
  CHECK_STR(name, "DISP-NAME");
  CHECK_MEM(value, len, "Doe<<John \0x", 12);
  free(buf);
  CHECK_OK(cmdp_parse_setattr("NAME ", &buf, &name, &value, &len, &desc));
  CHECK_INT(len, 0);
  free(buf);
  CHECK_ERR(cmdp_parse_setattr("NAME", &buf, &name, &value, &len, &desc),
            GPG_ERR_ASS_PARAMETER);
  CHECK_STR(desc, "usage: SETATTR NAME VALUE");
  CHECK(buf == NULL);
  CHECK_ERR(cmdp_parse_setattr("", &buf, &name, &value, &len, &desc),
            GPG_ERR_ASS_PARAMETER);
  CHECK_ERR(cmdp_parse_setattr("   ", &buf, &name, &value, &len, &desc),
            GPG_ERR_ASS_PARAMETER);
}

int
main(void)
{
  RUN(test_option_value);
  RUN(test_list_has);
  RUN(test_check_options);
  RUN(test_first_word);
  RUN(test_hex);
  RUN(test_unescape);
  RUN(test_keyid);
  RUN(test_hash);
  RUN(test_timestamp);
  RUN(test_uint);
  RUN(test_getinfo);
  RUN(test_passwd);
  RUN(test_genkey);
  RUN(test_setattr);
  return check_done();
}
