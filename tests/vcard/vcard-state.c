/* vcard-state.c - the card's persistent state in a file
 *
 * The file is a flat list of BER-TLV records, one per piece of state, each
 * written every time; a loader that meets an unknown, repeated, missing or
 * ill-sized record refuses the whole file, so a damaged card never comes
 * back as a silently reset one.  Records:
 *
 *   DF41 format (01)           DF42 serial (4)
 *   DF44 PW1, DF45 Reset Code, DF46 PW3: tries (1) || PIN (0-127)
 *   DF47 C4 byte 1             DF4B terminated (1)
 *   C1 C2 C3 algorithm attributes; DF48 DF49 DF4A keys (vc_key_save, absent
 *   for an empty slot); DE key information (3); C5 C6 fingerprints (60);
 *   CD dates (12); 93 signature counter (3); D6 the three UIF (6)
 *   5B 5F2D 5F35 5E 5F50 F9 as written; DF50-DF53 private DOs 0101-0104;
 *   DF54-DF56 the three cardholder certificates
 *
 * Writing is atomic: a temporary file in the same directory (mode 0600),
 * fsync, rename over the old file, fsync of the directory.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tlv.h"
#include "vcard-int.h"

#define STATE_FORMAT 1
#define STATE_MAX (256 * 1024) /* far above any real state */
#define KEY_MAX 8192           /* one serialized key */

struct record;
typedef void (*save_fn)(const struct vcard *card, const struct record *r,
                        struct tlv_builder *b);
typedef gpg_error_t (*load_fn)(struct vcard *card, const struct record *r,
                               const uint8_t *v, size_t len);

struct record
{
  unsigned int tag;
  save_fn save;
  load_fn load;
  int index;
  int optional;
};

static void save_format(const struct vcard *, const struct record *,
                        struct tlv_builder *);
static void save_serial(const struct vcard *, const struct record *,
                        struct tlv_builder *);
static void save_pin(const struct vcard *, const struct record *, struct tlv_builder *);
static void save_byte(const struct vcard *, const struct record *, struct tlv_builder *);
static void save_attr(const struct vcard *, const struct record *, struct tlv_builder *);
static void save_key(const struct vcard *, const struct record *, struct tlv_builder *);
static void save_fixed(const struct vcard *, const struct record *, struct tlv_builder *);
static void save_count(const struct vcard *, const struct record *, struct tlv_builder *);
static void save_blob(const struct vcard *, const struct record *, struct tlv_builder *);
static gpg_error_t load_format(struct vcard *, const struct record *, const uint8_t *,
                               size_t);
static gpg_error_t load_serial(struct vcard *, const struct record *, const uint8_t *,
                               size_t);
static gpg_error_t load_pin(struct vcard *, const struct record *, const uint8_t *,
                            size_t);
static gpg_error_t load_byte(struct vcard *, const struct record *, const uint8_t *,
                             size_t);
static gpg_error_t load_attr(struct vcard *, const struct record *, const uint8_t *,
                             size_t);
static gpg_error_t load_key(struct vcard *, const struct record *, const uint8_t *,
                            size_t);
static gpg_error_t load_fixed(struct vcard *, const struct record *, const uint8_t *,
                              size_t);
static gpg_error_t load_count(struct vcard *, const struct record *, const uint8_t *,
                              size_t);
static gpg_error_t load_blob(struct vcard *, const struct record *, const uint8_t *,
                             size_t);

/* Indexes of save_byte/load_byte and save_fixed/load_fixed. */
enum
{
  BYTE_MULTI = 0,
  BYTE_TERMINATED,
  FIXED_KEYINFO = 0,
  FIXED_FPR,
  FIXED_CAFPR,
  FIXED_DATE,
  FIXED_UIF
};

static const struct record records[] = {
  { 0xDF41, save_format, load_format, 0, 0 },
  { 0xDF42, save_serial, load_serial, 0, 0 },
  { 0xDF44, save_pin, load_pin, VC_PW1, 0 },
  { 0xDF45, save_pin, load_pin, VC_RC, 0 },
  { 0xDF46, save_pin, load_pin, VC_PW3, 0 },
  { 0xDF47, save_byte, load_byte, BYTE_MULTI, 0 },
  { 0xDF4B, save_byte, load_byte, BYTE_TERMINATED, 0 },
  { 0xC1, save_attr, load_attr, 0, 0 },
  { 0xC2, save_attr, load_attr, 1, 0 },
  { 0xC3, save_attr, load_attr, 2, 0 },
  { 0xDF48, save_key, load_key, 0, 1 },
  { 0xDF49, save_key, load_key, 1, 1 },
  { 0xDF4A, save_key, load_key, 2, 1 },
  { 0xDE, save_fixed, load_fixed, FIXED_KEYINFO, 0 },
  { 0xC5, save_fixed, load_fixed, FIXED_FPR, 0 },
  { 0xC6, save_fixed, load_fixed, FIXED_CAFPR, 0 },
  { 0xCD, save_fixed, load_fixed, FIXED_DATE, 0 },
  { 0xD6, save_fixed, load_fixed, FIXED_UIF, 0 },
  { 0x93, save_count, load_count, 0, 0 },
  { 0x5B, save_blob, load_blob, VC_B_NAME, 0 },
  { 0x5F2D, save_blob, load_blob, VC_B_LANG, 0 },
  { 0x5F35, save_blob, load_blob, VC_B_SEX, 0 },
  { 0x5E, save_blob, load_blob, VC_B_LOGIN, 0 },
  { 0x5F50, save_blob, load_blob, VC_B_URL, 0 },
  { 0xDF50, save_blob, load_blob, VC_B_PRIV1, 0 },
  { 0xDF51, save_blob, load_blob, VC_B_PRIV2, 0 },
  { 0xDF52, save_blob, load_blob, VC_B_PRIV3, 0 },
  { 0xDF53, save_blob, load_blob, VC_B_PRIV4, 0 },
  { 0xF9, save_blob, load_blob, VC_B_KDF, 0 },
  { 0xDF54, save_blob, load_blob, VC_B_CERT1, 0 },
  { 0xDF55, save_blob, load_blob, VC_B_CERT2, 0 },
  { 0xDF56, save_blob, load_blob, VC_B_CERT3, 0 },
};

#define NRECORDS (sizeof records / sizeof *records)

/* The most each blob may hold: what PUT DATA lets in. */
static const size_t blob_max[VC_B_COUNT] = {
  [VC_B_NAME] = 39,
  [VC_B_LANG] = 8,
  [VC_B_SEX] = 1,
  [VC_B_LOGIN] = VC_MAX_SPECIAL,
  [VC_B_URL] = VC_MAX_SPECIAL,
  [VC_B_PRIV1] = VC_MAX_SPECIAL,
  [VC_B_PRIV2] = VC_MAX_SPECIAL,
  [VC_B_PRIV3] = VC_MAX_SPECIAL,
  [VC_B_PRIV4] = VC_MAX_SPECIAL,
  [VC_B_KDF] = 110,
  [VC_B_CERT1] = VC_MAX_CERT,
  [VC_B_CERT2] = VC_MAX_CERT,
  [VC_B_CERT3] = VC_MAX_CERT,
};

/* Where save_fixed/load_fixed find their bytes in struct vc_persist. */
static const struct
{
  size_t offset, len;
} fixed_fields[] = {
  [FIXED_KEYINFO] = { offsetof(struct vc_persist, keyinfo), 3 },
  [FIXED_FPR] = { offsetof(struct vc_persist, fpr), 60 },
  [FIXED_CAFPR] = { offsetof(struct vc_persist, cafpr), 60 },
  [FIXED_DATE] = { offsetof(struct vc_persist, date), 12 },
  [FIXED_UIF] = { offsetof(struct vc_persist, uif), 6 },
};

static void
save_format(const struct vcard *card, const struct record *r, struct tlv_builder *b)
{
  (void)card;
  tlv_put(b, r->tag, "\x01", 1);
}

static gpg_error_t
load_format(struct vcard *card, const struct record *r, const uint8_t *v, size_t len)
{
  (void)card;
  (void)r;
  if (len != 1 || v[0] != STATE_FORMAT)
    return gpg_error(GPG_ERR_UNSUPPORTED_PROTOCOL);
  return 0;
}

static void
save_serial(const struct vcard *card, const struct record *r, struct tlv_builder *b)
{
  uint32_t s = card->p.serial;
  uint8_t v[4]
      = { (uint8_t)(s >> 24), (uint8_t)(s >> 16), (uint8_t)(s >> 8), (uint8_t)s };

  tlv_put(b, r->tag, v, 4);
}

static gpg_error_t
load_serial(struct vcard *card, const struct record *r, const uint8_t *v, size_t len)
{
  (void)r;
  if (len != 4)
    return gpg_error(GPG_ERR_INV_LENGTH);
  card->p.serial
      = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
  return card->p.serial ? 0 : gpg_error(GPG_ERR_INV_VALUE);
}

static void
save_pin(const struct vcard *card, const struct record *r, struct tlv_builder *b)
{
  const struct vc_pin *pin = &card->p.pin[r->index];
  uint8_t tries = (uint8_t)pin->tries;

  tlv_begin(b, r->tag);
  tlv_put_raw(b, &tries, 1);
  tlv_put_raw(b, pin->value, pin->len);
  tlv_end(b);
}

static gpg_error_t
load_pin(struct vcard *card, const struct record *r, const uint8_t *v, size_t len)
{
  struct vc_pin *pin = &card->p.pin[r->index];
  size_t min = r->index == VC_PW1 ? 6 : 8;

  if (!len || v[0] > VC_PIN_TRIES || len - 1 > VC_PIN_MAX)
    return gpg_error(GPG_ERR_INV_VALUE);
  /* Only the Reset Code may be unset, and then it has no tries. */
  if (len - 1 < min && !(r->index == VC_RC && len == 1 && !v[0]))
    return gpg_error(GPG_ERR_INV_VALUE);
  vc_wipe(pin, sizeof *pin);
  pin->tries = v[0];
  pin->len = len - 1;
  memcpy(pin->value, v + 1, len - 1);
  return 0;
}

static void
save_byte(const struct vcard *card, const struct record *r, struct tlv_builder *b)
{
  uint8_t v = r->index == BYTE_MULTI ? card->p.pw1_multi : (uint8_t)card->p.terminated;

  tlv_put(b, r->tag, &v, 1);
}

static gpg_error_t
load_byte(struct vcard *card, const struct record *r, const uint8_t *v, size_t len)
{
  if (len != 1 || v[0] > 1)
    return gpg_error(GPG_ERR_INV_VALUE);
  if (r->index == BYTE_MULTI)
    card->p.pw1_multi = v[0];
  else
    card->p.terminated = v[0];
  return 0;
}

static void
save_attr(const struct vcard *card, const struct record *r, struct tlv_builder *b)
{
  tlv_put(b, r->tag, card->p.attr[r->index], card->p.attrlen[r->index]);
}

static gpg_error_t
load_attr(struct vcard *card, const struct record *r, const uint8_t *v, size_t len)
{
  struct vc_algo algo;
  gpg_error_t err;

  if (!len || len > sizeof card->p.attr[0])
    return gpg_error(GPG_ERR_INV_LENGTH);
  err = vc_algo_parse(v, len, (enum vc_keyref)(r->index + 1), &algo);
  if (err)
    return err;
  memcpy(card->p.attr[r->index], v, len);
  card->p.attrlen[r->index] = len;
  return 0;
}

static void
save_key(const struct vcard *card, const struct record *r, struct tlv_builder *b)
{
  const struct vc_key *key = card->p.key[r->index];
  uint8_t *tmp;
  size_t n = 0;

  if (!key)
    return;
  tmp = malloc(KEY_MAX);
  if (!tmp || vc_key_save(key, tmp, KEY_MAX, &n))
    tlv_put(b, 0, NULL, 0); /* a bad tag: makes the builder fail */
  else
    tlv_put(b, r->tag, tmp, n);
  if (tmp)
    vc_wipe(tmp, KEY_MAX);
  free(tmp);
}

static gpg_error_t
load_key(struct vcard *card, const struct record *r, const uint8_t *v, size_t len)
{
  struct vc_key *key = NULL;
  gpg_error_t err;

  err = vc_key_load(v, len, &key);
  if (err)
    return err;
  vc_key_free(card->p.key[r->index]);
  card->p.key[r->index] = key;
  return 0;
}

static void
save_fixed(const struct vcard *card, const struct record *r, struct tlv_builder *b)
{
  const uint8_t *p = (const uint8_t *)&card->p;

  tlv_put(b, r->tag, p + fixed_fields[r->index].offset, fixed_fields[r->index].len);
}

static gpg_error_t
load_fixed(struct vcard *card, const struct record *r, const uint8_t *v, size_t len)
{
  uint8_t *p = (uint8_t *)&card->p;

  if (len != fixed_fields[r->index].len)
    return gpg_error(GPG_ERR_INV_LENGTH);
  memcpy(p + fixed_fields[r->index].offset, v, len);
  return 0;
}

static void
save_count(const struct vcard *card, const struct record *r, struct tlv_builder *b)
{
  uint32_t c = card->p.sigcount;
  uint8_t v[3] = { (uint8_t)(c >> 16), (uint8_t)(c >> 8), (uint8_t)c };

  tlv_put(b, r->tag, v, 3);
}

static gpg_error_t
load_count(struct vcard *card, const struct record *r, const uint8_t *v, size_t len)
{
  (void)r;
  if (len != 3)
    return gpg_error(GPG_ERR_INV_LENGTH);
  card->p.sigcount = (uint32_t)v[0] << 16 | (uint32_t)v[1] << 8 | v[2];
  return 0;
}

static void
save_blob(const struct vcard *card, const struct record *r, struct tlv_builder *b)
{
  const struct vc_buf *blob = &card->p.blob[r->index];

  tlv_put(b, r->tag, blob->data, blob->len);
}

static gpg_error_t
load_blob(struct vcard *card, const struct record *r, const uint8_t *v, size_t len)
{
  struct vc_buf *blob = &card->p.blob[r->index];
  uint8_t *copy = NULL;

  if (len > blob_max[r->index])
    return gpg_error(GPG_ERR_INV_LENGTH);
  if (len)
    {
      copy = malloc(len);
      if (!copy)
        return gpg_error_from_syserror();
      memcpy(copy, v, len);
    }
  free(blob->data);
  blob->data = copy;
  blob->len = len;
  return 0;
}

static gpg_error_t
write_all(int fd, const uint8_t *buf, size_t len)
{
  ssize_t n;

  while (len)
    {
      n = write(fd, buf, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return gpg_error_from_syserror();
      buf += n;
      len -= (size_t)n;
    }
  return 0;
}

/* fsync of the directory holding PATH, so the rename itself is durable. */
static gpg_error_t
sync_dir(const char *path)
{
  const char *slash = strrchr(path, '/');
  char *dir;
  int fd;
  gpg_error_t err = 0;

  dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
  if (!dir)
    return gpg_error_from_syserror();
  fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fsync(fd))
    err = gpg_error_from_syserror();
  if (fd >= 0)
    close(fd);
  free(dir);
  return err;
}

static gpg_error_t
write_file(const char *path, const uint8_t *buf, size_t len)
{
  gpg_error_t err;
  size_t plen = strlen(path);
  char *tmp = malloc(plen + 5);
  int fd;

  if (!tmp)
    return gpg_error_from_syserror();
  memcpy(tmp, path, plen);
  memcpy(tmp + plen, ".tmp", 5);
  /* A fresh file, never a stale one whose mode others chose. */
  if (unlink(tmp) && errno != ENOENT)
    fd = -1;
  else
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    err = gpg_error_from_syserror();
  else
    {
      err = write_all(fd, buf, len);
      if (!err && fsync(fd))
        err = gpg_error_from_syserror();
      if (close(fd) && !err)
        err = gpg_error_from_syserror();
      if (!err && rename(tmp, path))
        err = gpg_error_from_syserror();
      if (err)
        unlink(tmp);
    }
  if (!err)
    err = sync_dir(path);
  free(tmp);
  return err;
}

gpg_error_t
vc_state_save(const struct vcard *card)
{
  struct tlv_builder b;
  gpg_error_t err;
  uint8_t *buf;
  size_t i, len = 0;

  buf = malloc(STATE_MAX);
  if (!buf)
    return gpg_error_from_syserror();
  tlv_builder_init(&b, buf, STATE_MAX);
  for (i = 0; i < NRECORDS; i++)
    records[i].save(card, &records[i], &b);
  err = tlv_builder_finish(&b, &len);
  if (!err)
    err = write_file(card->state_path, buf, len);
  vc_wipe(buf, STATE_MAX);
  free(buf);
  return err;
}

static const struct record *
find_record(unsigned int tag, size_t *index)
{
  size_t i;

  for (i = 0; i < NRECORDS; i++)
    if (records[i].tag == tag)
      {
        *index = i;
        return &records[i];
      }
  return NULL;
}

/* Each key must be of the algorithm its slot's attributes name: records
 * come in any order, so this is checked once all are read. */
static gpg_error_t
check_keys(const struct vcard *card)
{
  struct vc_algo algo;
  unsigned int i;

  for (i = 0; i < 3; i++)
    if (card->p.key[i]
        && (vc_algo_parse(card->p.attr[i], card->p.attrlen[i], (enum vc_keyref)(i + 1),
                          &algo)
            || vc_key_algo(card->p.key[i])->id != algo.id
            || vc_key_algo(card->p.key[i])->curve != algo.curve
            || vc_key_algo(card->p.key[i])->rsa_bits != algo.rsa_bits))
      return gpg_error(GPG_ERR_WRONG_PUBKEY_ALGO);
  return 0;
}

/* Loads every record of BUF into the card, each exactly once. */
static gpg_error_t
parse_state(struct vcard *card, const uint8_t *buf, size_t len)
{
  unsigned char seen[NRECORDS] = { 0 };
  struct tlv_iter it;
  struct tlv t;
  const struct record *r;
  gpg_error_t err;
  size_t i = 0;

  tlv_iter_init(&it, buf, len);
  while (!(err = tlv_iter_next(&it, &t)))
    {
      r = find_record(t.tag, &i);
      if (!r || seen[i]++)
        return gpg_error(GPG_ERR_INV_OBJ);
      err = r->load(card, r, t.value, t.len);
      if (err)
        return err;
    }
  if (gpg_err_code(err) != GPG_ERR_EOF)
    return err;
  for (i = 0; i < NRECORDS; i++)
    if (!seen[i] && !records[i].optional)
      return gpg_error(GPG_ERR_MISSING_VALUE);
  return check_keys(card);
}

static gpg_error_t
read_file(const char *path, uint8_t *buf, size_t size, size_t *len, int *missing)
{
  gpg_error_t err = 0;
  struct stat st;
  ssize_t n;
  int fd;

  *len = 0;
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      *missing = errno == ENOENT;
      return *missing ? 0 : gpg_error_from_syserror();
    }
  if (fstat(fd, &st))
    err = gpg_error_from_syserror();
  else if (!S_ISREG(st.st_mode) || st.st_size <= 0 || (size_t)st.st_size > size)
    err = gpg_error(GPG_ERR_INV_LENGTH);
  while (!err && *len < (size_t)st.st_size)
    {
      n = read(fd, buf + *len, (size_t)st.st_size - *len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        err = n ? gpg_error_from_syserror() : gpg_error(GPG_ERR_TRUNCATED);
      else
        *len += (size_t)n;
    }
  close(fd);
  return err;
}

gpg_error_t
vc_state_load(struct vcard *card, int *r_missing)
{
  gpg_error_t err;
  uint8_t *buf;
  size_t len = 0;

  *r_missing = 0;
  buf = malloc(STATE_MAX);
  if (!buf)
    return gpg_error_from_syserror();
  err = read_file(card->state_path, buf, STATE_MAX, &len, r_missing);
  if (!err && !*r_missing)
    err = parse_state(card, buf, len);
  vc_wipe(buf, STATE_MAX);
  free(buf);
  return err;
}
