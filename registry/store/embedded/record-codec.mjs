// @ts-check
/**
 * The stored form of a record in the embedded store since schema v6 (schema.ts): the record's JSON
 * text (record.ts `recordText`), compressed against a preset dictionary. A DocumentEntry's 2.5 KB
 * of JSON becomes ~0.33 KB, a SubmissionSet's 1.05 KB ~0.19 KB, a HasMember Association's 0.41 KB
 * ~0.1 KB (measured on the bench generator's records): most of a record is key names and code
 * systems every record repeats, which the dictionary holds once for all.
 *
 * Formats of a packed record (a BLOB), by its first byte, the codec:
 *
 *   1  raw deflate (RFC 1951) against DICTIONARY_1, window 2^15, of the record's JSON text
 *        bytes 1–4  length of the JSON text in UTF-8 bytes, unsigned 32-bit little-endian
 *        bytes 5–   the compressed text
 *   2  since schema v7: a record with its object's stored LeafClass form (a DocumentEntry's
 *      `rim:ExtrinsicObject` element as the registry writes it into answers, see schema.ts v7):
 *      raw deflate against DICTIONARY_2, window 2^15, of the record's text followed by the form's
 *        bytes 1–4  length of the JSON text in UTF-8 bytes, the same
 *        bytes 5–8  length of the form's text in UTF-8 bytes, the same
 *        bytes 9–   the compressed texts, one stream
 *   3  since schema v8: a Zstandard frame (RFC 8878) of the record's text, against DICTIONARY_2 as
 *      a raw-content dictionary; bytes 1–4 as codec 1, bytes 5– the frame
 *   4  since schema v8: a Zstandard frame of the record's text followed by its form's, against
 *      DICTIONARY_2; bytes 1–8 as codec 2, bytes 9– the frame
 *
 * Every program since v8 writes codecs 3 and 4 and reads all four. Why Zstandard: deflate sets its
 * dictionary again for every record (zlib has no way to keep a prepared one), which for the 20.6 KB
 * of DICTIONARY_2 costs ~26 µs before the first byte is compressed, and its match search is slower;
 * a Zstandard dictionary is prepared once per thread (`CDict`/`DDict`). Measured on the 1,920
 * DocumentEntries and 4,080 other records of every 37th row of a generated 200k store, the two
 * codecs alternating in one process (BENCHMARKS.md, issue 19, ninth session): a DocumentEntry with
 * its form 735 B packed in ~100 µs with codec 2, 759 B in ~65 µs with codec 4, record and form
 * read in 13.3 against 6.1 µs; another record 127 B in 22.5 µs with codec 1, 132 B in 11.5 µs
 * with codec 3, read in 2.6 against 2.3 µs (headers included). The frames
 * carry no content size, checksum or dictionary id (the header has the lengths; the row is in a
 * SQLite page with its own integrity checks), and are standard frames otherwise: the `zstd` tool
 * reads one with `-D` and the dictionary.
 *
 * One stream for a record and its form, not a column each: the form repeats most of the record's
 * values (ids, codes, names, the patient), which the compressor then finds just before it.
 * Measured with deflate on 2,000 entries of the bench's 1M store: 726 B for both against 324 + 553 B
 * packed apart. The record alone is read from a codec 2 value by inflating the stream's first
 * part only; a codec 4 frame is decompressed whole, which costs no more (`unpackRecord`).
 *
 * A record stored as TEXT is plain JSON: what schema v5 and earlier wrote, still read as it is (a
 * v5 file migrated to v6 keeps its rows until they are replaced; see schema.ts). The dictionaries
 * are part of the format: they must never change. A better one becomes a new codec, and the
 * reader keeps the old ones.
 *
 * Plain JavaScript because the writer's worker thread packs (sqlite-batch.mjs, a statement's
 * `pack`), and tsx's hooks do not reach worker threads.
 *
 * zlib is used through one long-lived stream handle per thread and direction, reset per record:
 * `zlib.inflateRawSync` makes and initialises a new stream (and sets the dictionary) for every
 * call, ~17 µs instead of ~4 µs. The handle's `writeSync`/`reset` and the stream's `_writeState`
 * are Node internals (stable since Node 10, still there in 22 and 24); where they are missing, the
 * sync functions are used. Zstandard is zstd-napi's binding of libzstd (its low-level contexts, so
 * a record is compressed into and out of memory the codec owns, without a copy per call).
 */
import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import { FORM_DICTIONARY_1 } from './form-dictionary.mjs';

/** The codec byte of codec 1. */
export const CODEC_DEFLATE_1 = 1;
/** The codec byte of codec 2: a record and its stored form, deflated. */
export const CODEC_DEFLATE_2 = 2;
/** The codec byte of codec 3: a record alone, a Zstandard frame. */
export const CODEC_ZSTD_3 = 3;
/** The codec byte of codec 4: a record and its stored form, one Zstandard frame. */
export const CODEC_ZSTD_4 = 4;
const HEADER = 5;
const HEADER_2 = 9;

/**
 * What records are made of: the key names in the order record.ts writes them, the IHE and ebXML
 * constants, the Volven code systems and the display names of the commonest Norwegian codes.
 * Frozen with codec 1: changing one byte makes every stored record of codec 1 unreadable.
 */
const DICTIONARY_1_TEXT = [
  '{"type":"Folder","entryUuid":"urn:uuid:","uniqueId":"","patientId":"^^^&2.16.578.1.12.4.1.4.1&ISO","availabilityStatus":"Approved","title":{"value":"","lang":"nb-NO"},"comments":{"value":""},"codeList":[],"extra":{"slots":[{"name":"","values":[]}],"classifications":[],"externalIdentifiers":[]},"logicalUuid":"urn:uuid:","version":"1","lastUpdateTime":"","homeCommunityId":"urn:oid:","_s":{"lastUpdateTime":"","codeList":[]}}',
  '{"type":"Association","entryUuid":"urn:uuid:","associationType":"urn:ihe:iti:2007:AssociationType:XFRM_RPLC","sourceUuid":"urn:uuid:","targetUuid":"urn:uuid:","availabilityStatus":"Deprecated","previousVersion":"","associationPropagation":"no","originalStatus":"urn:oasis:names:tc:ebxml-regrep:StatusType:Approved","newStatus":"urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated","documentation":[],"extra":{"slots":[],"classifications":[],"externalIdentifiers":[]},"_s":{}}',
  '{"type":"Association","entryUuid":"urn:uuid:","associationType":"urn:ihe:iti:2007:AssociationType:RPLC","sourceUuid":"urn:uuid:","targetUuid":"urn:uuid:","availabilityStatus":"Approved","extra":{"slots":[],"classifications":[],"externalIdentifiers":[]},"_s":{}}',
  'urn:ihe:iti:2007:AssociationType:XFRM urn:ihe:iti:2007:AssociationType:APND urn:ihe:iti:2007:AssociationType:signs urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus urn:ihe:iti:2010:AssociationType:SubmitAssociation urn:ihe:iti:xds:2017:mimeTypeSufficient urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248 "Submitted" "Reference"',
  '{"code":"NORS","scheme":"2.16.578.1.12.4.1.1.9603","displayName":{"value":"Sperret"}},{"code":"NORU","scheme":"2.16.578.1.12.4.1.1.9603","displayName":{"value":"Utsatt innsyn"}},{"code":"N","scheme":"2.16.840.1.113883.5.25","displayName":{"value":"normal"}}',
  '{"code":"B00-1","scheme":"2.16.578.1.12.4.1.1.9602","displayName":{"value":"Løpende journal"}},{"code":"B02-2","scheme":"2.16.578.1.12.4.1.1.9602","displayName":{"value":"Journalnotat"}},{"code":"C00-1","scheme":"2.16.578.1.12.4.1.1.9602","displayName":{"value":"Prøvesvar"}},{"code":"C01-2","scheme":"2.16.578.1.12.4.1.1.9602","displayName":{"value":"Medisinsk biokjemi"}},{"code":"E00-1","scheme":"2.16.578.1.12.4.1.1.9602","displayName":{"value":"Bildediagnostikk"}},{"code":"E01-2","scheme":"2.16.578.1.12.4.1.1.9602","displayName":{"value":"Bildediagnostiske svar"}},{"code":"I00-1","scheme":"2.16.578.1.12.4.1.1.9602","displayName":{"value":"Korrespondanse"}},{"code":"I01-2","scheme":"2.16.578.1.12.4.1.1.9602","displayName":{"value":"Henvisning"}}',
  '{"code":"86.101","scheme":"2.16.578.1.12.4.1.1.1303","displayName":{"value":"Somatisk sykehus"}},{"code":"KP01","scheme":"2.16.578.1.12.4.1.1.8663","displayName":{"value":"KP01"}},{"code":"urn:no:ehelse:document:text","scheme":"urn:oid:1.3.6.1.4.1.19376.1.2.3","displayName":{"value":"Tekst"}},"mimeType":"text/plain","mimeType":"text/xml"',
  '{"type":"SubmissionSet","entryUuid":"urn:uuid:","uniqueId":"","patientId":"^^^&2.16.578.1.12.4.1.4.1&ISO","availabilityStatus":"Approved","sourceId":"","submissionTime":"","contentTypeCode":{"code":"A03-2","scheme":"2.16.578.1.12.4.1.1.9602","displayName":{"value":"Epikrise"}},"authors":[{"person":"^^^^^^^^&2.16.578.1.12.4.1.4.4&ISO","institutions":["^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^"],"roles":[],"specialties":[],"telecommunications":[]}],"intendedRecipients":[],"limitedMetadata":true,"extra":{"slots":[],"classifications":[],"externalIdentifiers":[]},"logicalUuid":"urn:uuid:","version":"1","_s":{"submissionTime":"","contentTypeCode":"A03-2^^2.16.578.1.12.4.1.1.9602","authorPersons":["^^^^^^^^&2.16.578.1.12.4.1.4.4&ISO"],"authorInstitutions":["^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^"]}}',
  '{"type":"Association","entryUuid":"urn:uuid:","associationType":"urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember","sourceUuid":"urn:uuid:","targetUuid":"urn:uuid:","availabilityStatus":"Approved","submissionSetStatus":"Original","extra":{"slots":[],"classifications":[],"externalIdentifiers":[]},"_s":{}}',
  '{"type":"DocumentEntry","entryUuid":"urn:uuid:","objectType":"urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1","uniqueId":"","patientId":"^^^&2.16.578.1.12.4.1.4.1&ISO","availabilityStatus":"Approved","title":{"value":"Epikrise","lang":"nb-NO"},"comments":{"value":""},"mimeType":"application/pdf","classCode":{"code":"A00-1","scheme":"2.16.578.1.12.4.1.1.9602","displayName":{"value":"Epikriser og sammenfatninger"}},"typeCode":{"code":"A03-2","scheme":"2.16.578.1.12.4.1.1.9602","displayName":{"value":"Epikrise"}},"formatCode":{"code":"urn:no:ehelse:document:pdf","scheme":"urn:oid:1.3.6.1.4.1.19376.1.2.3","displayName":{"value":"PDF"}},"healthcareFacilityTypeCode":{"code":"86.211","scheme":"2.16.578.1.12.4.1.1.1303","displayName":{"value":"Allmennlegetjeneste"}},"practiceSettingCode":{"code":"S03","scheme":"2.16.578.1.12.4.1.1.8655","displayName":{"value":"Indremedisin"}},"confidentialityCodes":[{"code":"N","scheme":"2.16.578.1.12.4.1.1.9603","displayName":{"value":"Normal"}}],"eventCodes":[],"authors":[{"person":"^^^^^^^^&2.16.578.1.12.4.1.4.4&ISO","institutions":["^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^"],"roles":[],"specialties":[],"telecommunications":[]}],"creationTime":"","serviceStartTime":"","serviceStopTime":"","hash":"","size":"","languageCode":"nb-NO","repositoryUniqueId":"","sourcePatientId":"^^^&2.16.578.1.12.4.1.4.1&ISO","sourcePatientInfo":["PID-3|^^^&2.16.578.1.12.4.1.4.1&ISO","PID-5|","PID-7|","PID-8|"],"referenceIdList":[],"uri":"","documentAvailability":"urn:ihe:iti:2010:DocumentAvailability:Online","extra":{"slots":[],"classifications":[],"externalIdentifiers":[]},"legalAuthenticator":"^^^^^^^^&2.16.578.1.12.4.1.4.4&ISO","logicalUuid":"urn:uuid:","version":"1","_s":{"creationTime":"","serviceStartTime":"","serviceStopTime":"","classCode":"A00-1^^2.16.578.1.12.4.1.1.9602","typeCode":"A03-2^^2.16.578.1.12.4.1.1.9602","formatCode":"urn:no:ehelse:document:pdf^^urn:oid:1.3.6.1.4.1.19376.1.2.3","healthcareFacilityTypeCode":"86.211^^2.16.578.1.12.4.1.1.1303","practiceSettingCode":"S03^^2.16.578.1.12.4.1.1.8655","confidentialityCodes":["N^^2.16.578.1.12.4.1.1.9603"],"eventCodes":[],"authorPersons":["^^^^^^^^&2.16.578.1.12.4.1.4.4&ISO"],"authorInstitutions":["^^^^^&2.16.578.1.12.4.1.4.101&ISO^^^^"],"authorRoles":[],"authorSpecialties":[]}}',
].join('');

export const DICTIONARY_1 = Buffer.from(DICTIONARY_1_TEXT, 'utf8');

/**
 * Codec 2's dictionary: the LeafClass elements' (form-dictionary.mjs), then codec 1's, nearest the
 * record that comes first in the stream (zlib prefers near matches; the other order measured
 * 737 B against 726). 20.6 KB, within deflate's 32 KB window.
 */
export const DICTIONARY_2 = Buffer.concat([FORM_DICTIONARY_1, DICTIONARY_1]);

const { Z_FINISH } = zlib.constants;

/**
 * A zlib stream used synchronously, one record at a time: reset (which sets the dictionary again),
 * then one `writeSync` of the whole input into an output of known size.
 * @typedef {{ reset(): void, writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void }} Handle
 * @typedef {{ _handle?: Handle | null, _writeState?: Uint32Array, destroyed?: boolean, on(event: 'error', listener: () => void): unknown }} Stream
 */

/**
 * The handle and write state of a stream, or undefined where Node has them no more. The stream is
 * kept with them: collected, it would close its handle (a native assertion, not an exception, on
 * the next write). A zlib error (corrupt input) destroys the stream, closing the handle: its
 * inflater or deflater then drops the engine, and the next input makes a new one.
 * @param {Stream} stream @returns {Engine | undefined}
 * @typedef {{ stream: Stream, handle: Handle, state: Uint32Array }} Engine
 */
function internals(stream) {
  // The destroyed stream emits 'error' on the next tick: without a listener, that ends the process.
  stream.on('error', () => {});
  const handle = stream._handle;
  const state = stream._writeState;
  if (handle === undefined || handle === null || typeof handle.writeSync !== 'function' || typeof handle.reset !== 'function') return undefined;
  if (!(state instanceof Uint32Array) || state.length < 2) return undefined;
  return { stream, handle, state };
}

/**
 * Runs one whole input through a reset stream into `out[outOff, outOff + outLen)`; the bytes
 * written, or undefined if the output was too small. With `prefix`, the output is meant to be
 * filled: the input's first `outLen` bytes of output are wanted, the rest of it is left unread, and
 * the result is `outLen` (a full output is then no error: zlib stops there). Throws on corrupt
 * input (the engine is then dead: its stream destroyed its handle).
 * @param {Engine} z
 * @param {Uint8Array} input @param {number} inOff
 * @param {Uint8Array} out @param {number} outOff @param {number} outLen
 * @param {boolean} [prefix]
 */
function runOnce(z, input, inOff, out, outOff, outLen, prefix = false) {
  z.handle.reset();
  z.handle.writeSync(Z_FINISH, input, inOff, input.length - inOff, out, outOff, outLen);
  if (z.stream.destroyed === true || z.stream._handle !== z.handle) throw new Error('corrupt stored record: zlib failed on it');
  const availOut = /** @type {number} */ (z.state[0]);
  const availIn = /** @type {number} */ (z.state[1]);
  if (prefix) return availOut === 0 ? outLen : undefined;
  if (availIn !== 0 || availOut === 0) return undefined;
  return outLen - availOut;
}

/**
 * A raw inflater for one dictionary that reuses one zlib handle, reset per input (a new stream per
 * input, as `zlib.inflateRawSync` makes, costs its set-up and the dictionary every time: ~17 µs
 * against ~4 µs for a record). It inflates `input` from `inOff` on, whose inflated size is
 * `length`, and returns a view of its own scratch memory, valid until its next call; with
 * `prefix`, only the first `length` bytes of a longer output are inflated (the rest of the input
 * is not read, nor checked). A corrupt input throws, and the next call makes a new handle.
 * @param {Buffer} dictionary
 * @returns {(input: Uint8Array, inOff: number, length: number, prefix?: boolean) => Buffer}
 */
export function reusableInflater(dictionary) {
  const options = { dictionary, windowBits: 15 };
  /** @type {Engine | undefined | null} null: not made yet; undefined: Node has no handle to reuse */
  let engine = null;
  let out = Buffer.allocUnsafe(64 * 1024);
  return (input, inOff, length, prefix = false) => {
    if (engine === null) engine = internals(/** @type {Stream} */ (/** @type {unknown} */ (zlib.createInflateRaw(options))));
    if (engine === undefined) {
      const whole = zlib.inflateRawSync(input.subarray(inOff), options);
      if (prefix ? whole.length < length : whole.length !== length) throw new Error(`stored record of ${length} bytes unpacked to ${whole.length}`);
      return prefix ? whole.subarray(0, length) : whole;
    }
    // One byte more than expected: a full output would not tell a complete input from a cut one.
    const outLen = prefix ? length : length + 1;
    if (out.length < outLen) out = Buffer.allocUnsafe(Math.max(outLen, out.length * 2));
    let n;
    try {
      n = runOnce(engine, input, inOff, out, 0, outLen, prefix);
    } catch (e) {
      engine = null;
      throw e;
    }
    if (n !== length) throw new Error(`stored record of ${length} bytes unpacked to ${n ?? (prefix ? 'fewer' : 'more')}`);
    return out.subarray(0, n);
  };
}

/**
 * A raw deflater for one dictionary (level 6, zlib's default: level 9 gave the same sizes, level 1
 * ~20 % larger ones at no lower cost), reusing one zlib handle reset per input, as
 * `reusableInflater`. Returns a view of its own scratch memory, valid until its next call, holding
 * `headroom` bytes for the caller (left as they were) and then the compressed input.
 * @param {Buffer} dictionary
 * @param {number} [headroom]
 * @returns {(input: Uint8Array) => Buffer}
 */
export function reusableDeflater(dictionary, headroom = 0) {
  const options = { dictionary, windowBits: 15, level: 6, memLevel: 8 };
  /** @type {Engine | undefined | null} */
  let engine = null;
  let out = Buffer.allocUnsafe(64 * 1024);
  /** @param {Uint8Array} input */
  const viaSync = (input) => {
    const compressed = zlib.deflateRawSync(input, options);
    const whole = Buffer.allocUnsafe(headroom + compressed.length);
    compressed.copy(whole, headroom);
    return whole;
  };
  return (input) => {
    if (engine === null) engine = internals(/** @type {Stream} */ (/** @type {unknown} */ (zlib.createDeflateRaw(options))));
    if (engine === undefined) return viaSync(input);
    // Deflate never grows its input by more than ~0.03 % + a few bytes per block; 1/8 + 64 is ample.
    const size = headroom + input.length + (input.length >>> 3) + 64;
    if (out.length < size) out = Buffer.allocUnsafe(Math.max(size, out.length * 2));
    let n;
    try {
      n = runOnce(engine, input, 0, out, headroom, size - headroom);
    } catch (e) {
      engine = null;
      throw e;
    }
    return n === undefined ? viaSync(input) : out.subarray(0, headroom + n);
  };
}

const packOnce = reusableDeflater(DICTIONARY_1, HEADER);
const unpackOnce = reusableInflater(DICTIONARY_1);
const packOnce2 = reusableDeflater(DICTIONARY_2, HEADER_2);
const unpackOnce2 = reusableInflater(DICTIONARY_2);

/** @type {typeof import('zstd-napi/binding.js')} */
const zstd = createRequire(import.meta.url)('zstd-napi/binding.js');

/**
 * The compression parameters of codecs 3 and 4, chosen on the records of a generated store (see
 * the header): level 6's lazy match search with matches of ≥ 6 bytes and the window, hash and
 * chain tables sized to the 32 KB a record and the dictionary span. Level 6 as it is gave 802 B
 * per DocumentEntry in 40 µs, these 750 B in ~45; level 3 921 B in 15 µs; level 9 754 B in 61 µs.
 * Only the writer's speed and the size depend on them: any reader reads any frame.
 */
const ZSTD_PARAMETERS = /** @type {const} */ ([
  [zstd.CParameter.compressionLevel, 6],
  [zstd.CParameter.strategy, zstd.Strategy.lazy],
  [zstd.CParameter.minMatch, 6],
  [zstd.CParameter.windowLog, 15],
  [zstd.CParameter.hashLog, 15],
  [zstd.CParameter.chainLog, 15],
  [zstd.CParameter.searchLog, 4],
  // The header holds the lengths; the row lies in a SQLite page.
  [zstd.CParameter.contentSizeFlag, 0],
  [zstd.CParameter.checksumFlag, 0],
  [zstd.CParameter.dictIDFlag, 0],
]);

/**
 * This thread's Zstandard contexts, made on first use: each loads DICTIONARY_2 once, which libzstd
 * prepares once and reuses for every frame after (its text begins with neither dictionary magic,
 * so it is raw content).
 */
let zstdContexts = /** @type {{ c: import('zstd-napi/binding.js').CCtx, d: import('zstd-napi/binding.js').DCtx } | null} */ (null);
function contexts() {
  if (zstdContexts === null) {
    const c = new zstd.CCtx();
    for (const [parameter, value] of ZSTD_PARAMETERS) c.setParameter(parameter, value);
    c.loadDictionary(DICTIONARY_2);
    const d = new zstd.DCtx();
    d.loadDictionary(DICTIONARY_2);
    zstdContexts = { c, d };
  }
  return zstdContexts;
}

/** Scratch memory of this thread's packing and unpacking, grown when a record needs more. */
let packScratch = Buffer.allocUnsafe(64 * 1024);
let unpackScratch = Buffer.allocUnsafe(64 * 1024);

/**
 * The packed form of a record's JSON text: codec 3, or codec 4 with `form`, its object's stored
 * LeafClass form.
 * @param {string} text
 * @param {string | Uint8Array | null} [form]
 * @returns {Buffer}
 */
export function packRecord(text, form = null) {
  const recordLength = Buffer.byteLength(text, 'utf8');
  const formBytes = form === null ? null : typeof form === 'string' ? Buffer.from(form, 'utf8') : form;
  const inputLength = recordLength + (formBytes === null ? 0 : formBytes.length);
  const header = formBytes === null ? HEADER : HEADER_2;
  // The input goes first into the scratch's far end, the frame into its start, after the header.
  const bound = zstd.compressBound(inputLength);
  if (packScratch.length < header + bound + inputLength) packScratch = Buffer.allocUnsafe(2 * (header + bound + inputLength));
  const inputStart = packScratch.length - inputLength;
  packScratch.write(text, inputStart, recordLength, 'utf8');
  if (formBytes !== null) packScratch.set(formBytes, inputStart + recordLength);
  const frameLength = contexts().c.compress2(packScratch.subarray(header, inputStart), packScratch.subarray(inputStart));
  const out = Buffer.allocUnsafe(header + frameLength);
  packScratch.copy(out, header, header, header + frameLength);
  out.writeUInt32LE(recordLength, 1);
  if (formBytes === null) out[0] = CODEC_ZSTD_3;
  else {
    out[0] = CODEC_ZSTD_4;
    out.writeUInt32LE(formBytes.length, 5);
  }
  return out;
}

/**
 * The text a codec 3 or 4 value's frame holds, which must be `length` bytes, as a view of scratch
 * memory that the next call overwrites. Throws on a frame that does not decompress to that (a
 * damaged row). A record alone is read by decompressing the whole frame too: streaming only its
 * first part measured no faster (9.7 against 9.0 µs per DocumentEntry with its form).
 * @param {Buffer} view @param {number} frameStart @param {number} length
 */
function unzstd(view, frameStart, length) {
  // One byte more than expected: a full output would not tell a complete frame from one that
  // holds more.
  if (unpackScratch.length < length + 1) unpackScratch = Buffer.allocUnsafe(Math.max(length + 1, unpackScratch.length * 2));
  const produced = contexts().d.decompress(unpackScratch.subarray(0, length + 1), view.subarray(frameStart));
  if (produced !== length) throw new Error(`stored record of ${length} bytes unpacked to ${produced}`);
  return unpackScratch.subarray(0, length);
}

/**
 * What schema v6 and v7 programs wrote: codec 1, or codec 2 with `form`. Nothing writes them any
 * more; tests make the rows of older files with it.
 * @param {string} text
 * @param {string | Uint8Array | null} [form]
 * @returns {Buffer}
 */
export function packRecordDeflated(text, form = null) {
  if (form === null) {
    const input = Buffer.from(text, 'utf8');
    // A copy: the deflater's scratch is reused by the next record.
    const out = Buffer.from(packOnce(input));
    out[0] = CODEC_DEFLATE_1;
    out.writeUInt32LE(input.length, 1);
    return out;
  }
  const recordLength = Buffer.byteLength(text, 'utf8');
  const formBytes = typeof form === 'string' ? Buffer.from(form, 'utf8') : form;
  const input = Buffer.allocUnsafe(recordLength + formBytes.length);
  input.write(text, 0, recordLength, 'utf8');
  input.set(formBytes, recordLength);
  const out = Buffer.from(packOnce2(input));
  out[0] = CODEC_DEFLATE_2;
  out.writeUInt32LE(recordLength, 1);
  out.writeUInt32LE(formBytes.length, 5);
  return out;
}

/** @param {Uint8Array} stored */
const viewOf = (stored) => Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);

/** More than any record and form together (an ITI-42 request is far smaller). */
const MAX_UNPACKED_BYTES = 256 * 1024 * 1024;

/**
 * The unpacked length a value's header claims, refused when no record comes near it: a damaged
 * header must not make a thread allocate gigabytes of scratch for it (any codec).
 * @param {number} length
 */
function plausible(length) {
  if (length > MAX_UNPACKED_BYTES) throw new Error(`stored record claims ${length} bytes: damaged`);
  return length;
}

/**
 * The JSON text of a stored record: a packed one (a Uint8Array) unpacked, a TEXT one (v5 and
 * earlier) as it is. Of codec 2 only the record's part is inflated.
 * @param {string | Uint8Array} stored
 * @returns {string}
 */
export function unpackRecord(stored) {
  if (typeof stored === 'string') return stored;
  const codec = stored[0];
  if (codec === undefined || codec < CODEC_DEFLATE_1 || codec > CODEC_ZSTD_4) throw new Error(`stored record with unknown codec ${codec}`);
  const header = codec === CODEC_DEFLATE_2 || codec === CODEC_ZSTD_4 ? HEADER_2 : HEADER;
  if (stored.length < header) throw new Error(`stored record of ${stored.length} bytes is cut short`);
  const view = viewOf(stored);
  const length = plausible(view.readUInt32LE(1));
  switch (codec) {
    case CODEC_ZSTD_3:
      return unzstd(view, HEADER, length).toString('utf8');
    case CODEC_ZSTD_4:
      return unzstd(view, HEADER_2, plausible(length + view.readUInt32LE(5))).toString('utf8', 0, length);
    case CODEC_DEFLATE_1:
      return unpackOnce(view, HEADER, length).toString('utf8');
    default:
      return unpackOnce2(view, HEADER_2, length, true).toString('utf8');
  }
}

/**
 * Whether a stored record holds a stored form (codec 2 or 4), without unpacking it.
 * @param {string | Uint8Array} stored
 */
export function hasStoredForm(stored) {
  return typeof stored !== 'string' && stored.length >= HEADER_2 && (stored[0] === CODEC_ZSTD_4 || stored[0] === CODEC_DEFLATE_2);
}

/**
 * The record's text and form's text of a codec 2 or 4 value, decompressed whole, as one view of
 * scratch memory that the next call overwrites; throws on any other value, and on one that does
 * not decompress to its recorded lengths (a damaged row).
 * @param {Uint8Array} stored
 * @returns {{ both: Buffer, recordLength: number }}
 */
function unpackBoth(stored) {
  if (!hasStoredForm(stored)) throw new Error('the stored record holds no form');
  const view = viewOf(stored);
  const recordLength = view.readUInt32LE(1);
  const length = plausible(recordLength + view.readUInt32LE(5));
  const both = stored[0] === CODEC_ZSTD_4 ? unzstd(view, HEADER_2, length) : unpackOnce2(view, HEADER_2, length);
  return { both, recordLength };
}

/**
 * The stored form's UTF-8 text of a codec 2 or 4 record, as a view of scratch memory that the next
 * call overwrites (copy what must last). Throws on any other record, and on one that does not
 * decompress to its recorded lengths (a damaged row).
 * @param {Uint8Array} stored
 * @returns {Buffer}
 */
export function unpackForm(stored) {
  const { both, recordLength } = unpackBoth(stored);
  return both.subarray(recordLength);
}
