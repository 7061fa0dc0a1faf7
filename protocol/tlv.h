/* tlv.h - BER-TLV data objects as ISO 7816-4 and the OpenPGP card use them
 *
 * Parsing: struct tlv_iter walks one level of a buffer of data objects;
 * tlv_iter_enter opens a constructed object's value as the next level;
 * tlv_find_path follows a path of tags (6E -> 73 -> C5), one tag per level.
 * Every returned pointer lies inside the caller's buffer; nothing is copied.
 *
 * Building: struct tlv_builder writes objects into a caller's buffer, with
 * constructed objects opened and closed around their content.  Errors are
 * sticky: build everything, then check tlv_builder_finish once.
 *
 * What is accepted, and why:
 * - Tags of 1 to 3 bytes (ISO 7816-4 reserves longer ones): a first byte
 *   with low bits 11111 is followed by bytes with bit 8 set and one with bit
 *   8 clear.  A longer tag is GPG_ERR_NOT_SUPPORTED.  A tag is kept as its
 *   raw bytes read as a big-endian number (0x4F, 0x5F50, 0x7F49, 0x9F8102),
 *   the way card specifications name them, so class and constructed bit
 *   stay in it.  Second bytes that ISO 7816-4 calls invalid (00-1E, 80),
 *   some of which EMV uses (9F02), are accepted: tags are compared as raw
 *   bytes, so no two spellings can mean one tag here.
 * - Lengths of 1 to 3 bytes: 00-7F, 81 XX, 82 XX XX.  81 with a value below
 *   0x80 and 82 with one below 0x100 are accepted, as BER allows and some
 *   cards send; the builder always writes the shortest form (DER).  The
 *   indefinite form 80 and 85-FF are GPG_ERR_BAD_BER; 83 and 84, which ISO
 *   7816-4 allows but no APDU can carry, are GPG_ERR_NOT_SUPPORTED.
 * - Bytes 00 and FF before, between and after data objects, at every level,
 *   are padding (ISO 7816-4:1995, annex D.1: left by erased or modified
 *   objects) and skipped, as GnuPG's find_tlv does.  Hence no tag may begin
 *   with 00 or FF.
 * - A header cut short is GPG_ERR_TOO_SHORT.  A value running past the end
 *   of the caller's buffer is GPG_ERR_TOO_SHORT (the data was truncated);
 *   one running past the end of its parent's value is GPG_ERR_INV_LENGTH
 *   (the lengths contradict each other).
 * - Nesting is bounded: TLV_MAX_DEPTH levels, top level included.
 *
 * Pure code: no I/O, no allocation, no global state.
 */
#ifndef DUALSCD_PROTOCOL_TLV_H
#define DUALSCD_PROTOCOL_TLV_H

#include <stddef.h>
#include <stdint.h>

#include <gpg-error.h>

/* Levels of nesting, top level included: objects lie at depths 0 to
 * TLV_MAX_DEPTH - 1, both when parsed and when built.  OpenPGP card data
 * objects go three levels deep (6E -> 73 -> C5); the rest is headroom. */
#define TLV_MAX_DEPTH 16

/* The largest length this module reads or writes (form 82 XX XX). */
#define TLV_MAX_LEN 0xFFFFu

/* Bits 8 and 7 of a tag's first byte. */
enum tlv_class
{
  TLV_CLASS_UNIVERSAL = 0,
  TLV_CLASS_APPLICATION = 1,
  TLV_CLASS_CONTEXT = 2,
  TLV_CLASS_PRIVATE = 3,
};

/* One parsed data object. */
struct tlv
{
  unsigned int tag;     /* raw tag bytes as a big-endian number */
  enum tlv_class cls;   /* from the tag's first byte */
  int constructed;      /* bit 6 of the tag's first byte: the value is TLVs */
  const uint8_t *value; /* inside the parsed buffer */
  size_t len;           /* value length */
  size_t hdrlen;        /* tag and length bytes: the object starts at
                           VALUE - HDRLEN and spans HDRLEN + LEN bytes */
  unsigned int depth;   /* 0 for the top level, 1 inside one object... */
};

/* One level of data objects being walked.  The members are private. */
struct tlv_iter
{
  const uint8_t *pos;
  size_t left;
  unsigned int depth;
  int nested;
  gpg_error_t err;
};

/* Starts walking the top-level objects of BUF (LEN bytes).  BUF may be NULL
 * if LEN is 0; with a length it makes the iterator return
 * GPG_ERR_INV_VALUE. */
void tlv_iter_init(struct tlv_iter *it, const uint8_t *buf, size_t len);

/* Reads the next object of IT's level into *OUT, skipping padding.
 * Returns GPG_ERR_EOF at the end of the level, or an error for malformed
 * data (see the top of this file).  After any error, including EOF, every
 * further call returns the same error. */
gpg_error_t tlv_iter_next(struct tlv_iter *it, struct tlv *out);

/* Starts walking the objects in the value of PARENT, which tlv_iter_next
 * returned.  Errors: GPG_ERR_INV_VALUE if PARENT is primitive,
 * GPG_ERR_LIMIT_REACHED if the new level would be TLV_MAX_DEPTH deep.  On
 * error *CHILD is an iterator that returns that error. */
gpg_error_t tlv_iter_enter(struct tlv_iter *child, const struct tlv *parent);

/* Finds the object at PATH (NPATH tags, outermost first) in BUF (LEN bytes)
 * and stores it in *OUT: the first object tagged PATH[0] at the top level,
 * then the first tagged PATH[1] in its value, and so on; no other level is
 * searched.  Errors: GPG_ERR_NOT_FOUND; GPG_ERR_INV_VALUE if NPATH is 0 or
 * above TLV_MAX_DEPTH, a tag is invalid, or a tag other than the last is
 * primitive (it could not hold the next); the parser's errors for malformed
 * data met before the object was found. */
gpg_error_t tlv_find_path(const uint8_t *buf, size_t len, const unsigned int *path,
                          size_t npath, struct tlv *out);

/* tlv_find_path with the one-tag path TAG: the first top-level object with
 * that tag. */
gpg_error_t tlv_find(const uint8_t *buf, size_t len, unsigned int tag, struct tlv *out);

/* A data object writer into a caller's buffer.  The members are private. */
struct tlv_builder
{
  uint8_t *buf;
  size_t size;
  size_t len;
  size_t open[TLV_MAX_DEPTH - 1]; /* offset of each open object's length byte */
  unsigned int depth;
  gpg_error_t err;
};

/* Starts writing into BUF, which has room for SIZE bytes. */
void tlv_builder_init(struct tlv_builder *b, uint8_t *buf, size_t size);

/* Appends TAG, the shortest length for LEN and the LEN bytes at VALUE.
 * VALUE may be NULL if LEN is 0, and may point into what B has already
 * written. */
void tlv_put(struct tlv_builder *b, unsigned int tag, const void *value, size_t len);

/* Appends LEN raw bytes: content already encoded, or parts of a value that
 * tlv_begin opened (such as the concatenated key parts of DO 5F48). */
void tlv_put_raw(struct tlv_builder *b, const void *data, size_t len);

/* Opens an object tagged TAG; what is appended until the matching tlv_end
 * becomes its value.  Up to TLV_MAX_DEPTH - 1 objects may be open, so that
 * the innermost content lies at depth TLV_MAX_DEPTH - 1 at most. */
void tlv_begin(struct tlv_builder *b, unsigned int tag);

/* Closes the innermost open object, writing its length in the shortest
 * form. */
void tlv_end(struct tlv_builder *b);

/* Returns the first error any call on B met, and on success stores the
 * byte count written in *OUTLEN (else 0).  Errors: GPG_ERR_BUFFER_TOO_SHORT
 * when the buffer filled up; GPG_ERR_INV_VALUE for an invalid tag (more than
 * 3 bytes, bad continuation bits, first byte 00 or FF) or NULL data with a
 * length; GPG_ERR_TOO_LARGE for a value above TLV_MAX_LEN bytes;
 * GPG_ERR_LIMIT_REACHED for a tlv_begin beyond that bound;
 * GPG_ERR_INV_STATE for tlv_end with nothing open or tlv_builder_finish
 * with something still open.  The buffer content is undefined after an
 * error. */
gpg_error_t tlv_builder_finish(const struct tlv_builder *b, size_t *outlen);

#endif /* DUALSCD_PROTOCOL_TLV_H */
