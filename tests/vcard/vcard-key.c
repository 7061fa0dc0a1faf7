/* vcard-key.c - the key commands: GENERATE ASYMMETRIC KEY PAIR, PSO,
 * INTERNAL AUTHENTICATE, key import (PUT DATA odd), algorithm attributes
 *
 * Access conditions and formats are checked here; the key material itself
 * stays behind vcard-crypto.h.  A key slot is named in the commands by a
 * control reference template: B6 signature, B8 decryption, A4
 * authentication (empty, or with a one-byte key reference 84 that a single
 * key per slot makes redundant).
 */
#include <string.h>

#include "tlv.h"
#include "vcard-int.h"

/* RSA 2048, e of 32 bits, standard import format: every new card's keys. */
static const uint8_t rsa2048_attr[] = { 0x01, 0x08, 0x00, 0x00, 0x20, 0x00 };

void
vc_default_algo(struct vc_persist *p)
{
  int i;

  for (i = 0; i < 3; i++)
    {
      memcpy(p->attr[i], rsa2048_attr, sizeof rsa2048_attr);
      p->attrlen[i] = sizeof rsa2048_attr;
      p->keyinfo[i] = 0;
    }
}

static void
set_key(struct vcard *card, enum vc_keyref ref, struct vc_key *key, uint8_t info)
{
  vc_key_free(card->p.key[ref - 1]);
  card->p.key[ref - 1] = key;
  card->p.keyinfo[ref - 1] = info;
  /* The signature counter counts the signatures of one key. */
  if (ref == VC_KEY_SIG && key)
    card->p.sigcount = 0;
  card->dirty = 1;
}

/* PUT DATA C1-C3.  Version 2.1 knows RSA only.  New attributes delete the
 * slot's key, which no longer fits them; the same attributes keep it. */
unsigned int
vc_put_algo(struct vcard *card, enum vc_keyref ref, const uint8_t *data, size_t len)
{
  struct vc_algo algo;
  unsigned int i = (unsigned int)ref - 1;

  if (len > sizeof card->p.attr[i] || (!vc_v3(card) && data[0] != VC_ALGO_RSA)
      || vc_algo_parse(data, len, ref, &algo))
    return VC_SW_WRONG_DATA;
  if (len == card->p.attrlen[i] && !memcmp(data, card->p.attr[i], len))
    return VC_SW_OK;
  memcpy(card->p.attr[i], data, len);
  card->p.attrlen[i] = len;
  set_key(card, ref, NULL, 0);
  return VC_SW_OK;
}

/* The slot a control reference template names, 0 if none. */
static enum vc_keyref
crt_slot(const struct tlv *crt)
{
  struct tlv_iter it;
  struct tlv ref;
  enum vc_keyref slot;

  if (crt->tag == 0xB6)
    slot = VC_KEY_SIG;
  else if (crt->tag == 0xB8)
    slot = VC_KEY_DEC;
  else if (crt->tag == 0xA4)
    slot = VC_KEY_AUT;
  else
    return 0;
  if (!crt->len)
    return slot;
  tlv_iter_init(&it, crt->value, crt->len);
  if (tlv_iter_next(&it, &ref) || ref.tag != 0x84 || ref.len != 1
      || gpg_err_code(tlv_iter_next(&it, &ref)) != GPG_ERR_EOF)
    return 0;
  return slot;
}

/* The slot named by DATA, which must be one CRT and nothing else. */
static enum vc_keyref
data_slot(const uint8_t *data, size_t len)
{
  struct tlv_iter it;
  struct tlv crt, extra;

  tlv_iter_init(&it, data, len);
  if (tlv_iter_next(&it, &crt) || gpg_err_code(tlv_iter_next(&it, &extra)) != GPG_ERR_EOF)
    return 0;
  return crt_slot(&crt);
}

static gpg_error_t
slot_algo(const struct vcard *card, enum vc_keyref ref, struct vc_algo *algo)
{
  unsigned int i = (unsigned int)ref - 1;

  return vc_algo_parse(card->p.attr[i], card->p.attrlen[i], ref, algo);
}

static unsigned int
public_key_out(struct vcard *card, const struct vc_key *key)
{
  size_t n;

  if (vc_key_public(key, card->out, sizeof card->out, &n))
    return VC_SW_FAILURE;
  card->outlen = n;
  return VC_SW_OK;
}

/* GENERATE ASYMMETRIC KEY PAIR: P1 80 generates (PW3), P1 81 reads the
 * public key.  The fingerprint and date are the host's to write. */
unsigned int
vc_cmd_generate(struct vcard *card, const struct apdu_cmd *cmd)
{
  enum vc_keyref ref;
  struct vc_algo algo;
  struct vc_key *key = NULL;

  if ((cmd->p1 != 0x80 && cmd->p1 != 0x81) || cmd->p2)
    return VC_SW_BAD_P1P2;
  if (!cmd->lc)
    return VC_SW_WRONG_LENGTH;
  ref = data_slot(cmd->data, cmd->lc);
  if (!ref)
    return VC_SW_WRONG_DATA;
  if (cmd->p1 == 0x81)
    return card->p.key[ref - 1] ? public_key_out(card, card->p.key[ref - 1])
                                : VC_SW_NO_DATA;
  if (!card->pw3)
    return VC_SW_SECURITY;
  if (slot_algo(card, ref, &algo) || vc_key_generate(&algo, &key))
    return VC_SW_FAILURE;
  set_key(card, ref, key, 1);
  return public_key_out(card, key);
}

/* Maps a key operation's error to the status word the card answers. */
static unsigned int
op_status(gpg_error_t err, unsigned int bad_input)
{
  if (!err)
    return VC_SW_OK;
  if (gpg_err_code(err) == GPG_ERR_INV_VALUE
      || gpg_err_code(err) == GPG_ERR_DECRYPT_FAILED)
    return bad_input;
  return VC_SW_FAILURE;
}

static unsigned int
pso_sign(struct vcard *card, const struct apdu_cmd *cmd)
{
  const struct vc_key *key = card->p.key[VC_KEY_SIG - 1];
  unsigned int sw;
  size_t n = 0;

  if (!card->pw1_81)
    return VC_SW_SECURITY;
  if (!key)
    return VC_SW_NO_DATA;
  if (!cmd->lc)
    return VC_SW_WRONG_LENGTH;
  sw = op_status(vc_key_sign(key, cmd->data, cmd->lc, card->out, sizeof card->out, &n),
                 VC_SW_WRONG_LENGTH);
  if (sw != VC_SW_OK)
    return sw;
  card->outlen = n;
  if (card->p.sigcount < 0xFFFFFF)
    card->p.sigcount++;
  if (!card->p.pw1_multi)
    card->pw1_81 = 0;
  card->dirty = 1;
  return VC_SW_OK;
}

/* The input of DECIPHER: RSA after its padding indicator 00, ECDH the
 * point in A6 { 7F49 { 86 } }. */
static unsigned int
decipher_input(const struct vc_key *key, const struct apdu_cmd *cmd, const uint8_t **in,
               size_t *inlen)
{
  static const unsigned int path[] = { 0xA6, 0x7F49, 0x86 };
  struct tlv t;

  if (!cmd->lc)
    return VC_SW_WRONG_LENGTH;
  if (vc_key_algo(key)->id == VC_ALGO_RSA)
    {
      if (cmd->data[0] != 0x00)
        return VC_SW_WRONG_DATA;
      *in = cmd->data + 1;
      *inlen = cmd->lc - 1;
      return VC_SW_OK;
    }
  if (tlv_find_path(cmd->data, cmd->lc, path, 3, &t) || t.hdrlen + t.len > cmd->lc)
    return VC_SW_WRONG_DATA;
  *in = t.value;
  *inlen = t.len;
  return VC_SW_OK;
}

static unsigned int
pso_decipher(struct vcard *card, const struct apdu_cmd *cmd)
{
  const struct vc_key *key = card->p.key[VC_KEY_DEC - 1];
  const uint8_t *in = NULL;
  size_t inlen = 0, n = 0;
  unsigned int sw;

  if (!card->pw1_82)
    return VC_SW_SECURITY;
  if (!key)
    return VC_SW_NO_DATA;
  sw = decipher_input(key, cmd, &in, &inlen);
  if (sw == VC_SW_OK)
    sw = op_status(vc_key_decipher(key, in, inlen, card->out, sizeof card->out, &n),
                   VC_SW_WRONG_DATA);
  if (sw == VC_SW_OK)
    card->outlen = n;
  return sw;
}

/* PERFORM SECURITY OPERATION: 9E9A signs, 8086 deciphers (no AES). */
unsigned int
vc_cmd_pso(struct vcard *card, const struct apdu_cmd *cmd)
{
  if (cmd->p1 == 0x9E && cmd->p2 == 0x9A)
    return pso_sign(card, cmd);
  if (cmd->p1 == 0x80 && cmd->p2 == 0x86)
    return pso_decipher(card, cmd);
  return VC_SW_BAD_P1P2;
}

unsigned int
vc_cmd_internal_auth(struct vcard *card, const struct apdu_cmd *cmd)
{
  const struct vc_key *key = card->p.key[VC_KEY_AUT - 1];
  unsigned int sw;
  size_t n = 0;

  if (cmd->p1 || cmd->p2)
    return VC_SW_BAD_P1P2;
  if (!card->pw1_82)
    return VC_SW_SECURITY;
  if (!key)
    return VC_SW_NO_DATA;
  if (!cmd->lc)
    return VC_SW_WRONG_LENGTH;
  sw = op_status(vc_key_auth(key, cmd->data, cmd->lc, card->out, sizeof card->out, &n),
                 VC_SW_WRONG_LENGTH);
  if (sw == VC_SW_OK)
    card->outlen = n;
  return sw;
}

/* The parts of an extended header list 4D { CRT, 7F48, 5F48 }. */
struct import_parts
{
  enum vc_keyref ref;
  struct tlv tmpl, data;
};

static unsigned int
parse_import(const uint8_t *buf, size_t len, struct import_parts *parts)
{
  struct tlv outer, crt;
  struct tlv_iter it;

  memset(parts, 0, sizeof *parts);
  tlv_iter_init(&it, buf, len);
  if (tlv_iter_next(&it, &outer) || outer.tag != 0x4D
      || gpg_err_code(tlv_iter_next(&it, &crt)) != GPG_ERR_EOF)
    return VC_SW_WRONG_DATA;
  /* 4D is primitive by its tag, yet holds objects: walk its value. */
  tlv_iter_init(&it, outer.value, outer.len);
  if (tlv_iter_next(&it, &crt))
    return VC_SW_WRONG_DATA;
  parts->ref = crt_slot(&crt);
  if (!parts->ref || tlv_find(outer.value, outer.len, 0x7F48, &parts->tmpl)
      || tlv_find(outer.value, outer.len, 0x5F48, &parts->data))
    return VC_SW_WRONG_DATA;
  return VC_SW_OK;
}

/* PUT DATA odd (DB 3FFF): key import with PW3. */
unsigned int
vc_cmd_import(struct vcard *card, const struct apdu_cmd *cmd)
{
  struct import_parts parts;
  struct vc_algo algo;
  struct vc_key *key = NULL;
  unsigned int sw;

  if (cmd->p1 != 0x3F || cmd->p2 != 0xFF)
    return VC_SW_BAD_P1P2;
  if (!card->pw3)
    return VC_SW_SECURITY;
  if (!cmd->lc)
    return VC_SW_WRONG_LENGTH;
  sw = parse_import(cmd->data, cmd->lc, &parts);
  if (sw != VC_SW_OK)
    return sw;
  if (slot_algo(card, parts.ref, &algo))
    return VC_SW_FAILURE;
  sw = op_status(vc_key_import(&algo, parts.tmpl.value, parts.tmpl.len, parts.data.value,
                               parts.data.len, &key),
                 VC_SW_WRONG_DATA);
  if (sw == VC_SW_OK)
    set_key(card, parts.ref, key, 2);
  return sw;
}
