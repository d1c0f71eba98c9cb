// @ts-check
/**
 * The stored form of a record in the embedded store since schema v6 (schema.ts): the record's JSON
 * text (record.ts `recordText`), compressed with raw deflate against a preset dictionary. A
 * DocumentEntry's 2.5 KB of JSON becomes ~0.33 KB, a SubmissionSet's 1.05 KB ~0.19 KB, a HasMember
 * Association's 0.41 KB ~0.1 KB (measured on the bench generator's records): most of a record is
 * key names and code systems every record repeats, which the dictionary holds once for all.
 *
 * Format of a packed record (a BLOB):
 *
 *   byte 0      codec: 1 = raw deflate (RFC 1951) against DICTIONARY_1, window 2^15
 *   bytes 1–4   length of the JSON text in UTF-8 bytes, unsigned 32-bit little-endian
 *   bytes 5–    the compressed text
 *
 * A record stored as TEXT is plain JSON: what schema v5 and earlier wrote, still read as it is (a
 * v5 file migrated to v6 keeps its rows until they are replaced; see schema.ts). The dictionary of
 * codec 1 is part of the format: it must never change. A better one becomes codec 2, and the
 * reader keeps both.
 *
 * Plain JavaScript because the writer's worker thread packs (through the SQL function
 * `pack_record`, see `registerRecordFunctions`), and tsx's hooks do not reach worker threads.
 *
 * Cost (development machine, loaded): packing ~25–45 µs per DocumentEntry (on the writer's thread),
 * unpacking ~4 µs (UTF-8 decoding included, which a TEXT column costs too). zlib is used through one
 * long-lived stream handle per thread and direction, reset per record: `zlib.inflateRawSync` makes
 * and initialises a new stream (and sets the dictionary) for every call, ~17 µs instead of ~4 µs.
 * The handle's `writeSync`/`reset` and the stream's `_writeState` are Node internals (stable since
 * Node 10, still there in 22 and 24); where they are missing, the sync functions are used.
 */
import zlib from 'node:zlib';

/** The codec byte of codec 1. */
export const CODEC_DEFLATE_1 = 1;
const HEADER = 5;

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
 * written, or undefined if the output was too small. Throws on corrupt input (the engine is then
 * dead: its stream destroyed its handle).
 * @param {Engine} z
 * @param {Uint8Array} input @param {number} inOff
 * @param {Uint8Array} out @param {number} outOff @param {number} outLen
 */
function runOnce(z, input, inOff, out, outOff, outLen) {
  z.handle.reset();
  z.handle.writeSync(Z_FINISH, input, inOff, input.length - inOff, out, outOff, outLen);
  if (z.stream.destroyed === true || z.stream._handle !== z.handle) throw new Error('corrupt stored record: zlib failed on it');
  const availOut = /** @type {number} */ (z.state[0]);
  const availIn = /** @type {number} */ (z.state[1]);
  if (availIn !== 0 || availOut === 0) return undefined;
  return outLen - availOut;
}

/**
 * A raw inflater for one dictionary that reuses one zlib handle, reset per input (a new stream per
 * input, as `zlib.inflateRawSync` makes, costs its set-up and the dictionary every time: ~17 µs
 * against ~4 µs for a record). It inflates `input` from `inOff` on, whose inflated size is
 * `length`, and returns a view of its own scratch memory, valid until its next call. A corrupt
 * input throws, and the next call makes a new handle.
 * @param {Buffer} dictionary
 * @returns {(input: Uint8Array, inOff: number, length: number) => Buffer}
 */
export function reusableInflater(dictionary) {
  const options = { dictionary, windowBits: 15 };
  /** @type {Engine | undefined | null} null: not made yet; undefined: Node has no handle to reuse */
  let engine = null;
  let out = Buffer.allocUnsafe(64 * 1024);
  return (input, inOff, length) => {
    if (engine === null) engine = internals(/** @type {Stream} */ (/** @type {unknown} */ (zlib.createInflateRaw(options))));
    if (engine === undefined) {
      const whole = zlib.inflateRawSync(input.subarray(inOff), options);
      if (whole.length !== length) throw new Error(`stored record of ${length} bytes unpacked to ${whole.length}`);
      return whole;
    }
    // One byte more than expected: a full output would not tell a complete input from a cut one.
    if (out.length < length + 1) out = Buffer.allocUnsafe(Math.max(length + 1, out.length * 2));
    let n;
    try {
      n = runOnce(engine, input, inOff, out, 0, length + 1);
    } catch (e) {
      engine = null;
      throw e;
    }
    if (n !== length) throw new Error(`stored record of ${length} bytes unpacked to ${n ?? 'more'}`);
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

/**
 * The packed form of a record's JSON text (codec 1).
 * @param {string} text
 * @returns {Buffer}
 */
export function packRecord(text) {
  const input = Buffer.from(text, 'utf8');
  const packed = packOnce(input);
  const out = Buffer.allocUnsafe(packed.length);
  packed.copy(out);
  out[0] = CODEC_DEFLATE_1;
  out.writeUInt32LE(input.length, 1);
  return out;
}

/**
 * The JSON text of a stored record: a packed one (a Uint8Array) unpacked, a TEXT one (v5 and
 * earlier) as it is.
 * @param {string | Uint8Array} stored
 * @returns {string}
 */
export function unpackRecord(stored) {
  if (typeof stored === 'string') return stored;
  if (stored.length < HEADER || stored[0] !== CODEC_DEFLATE_1) throw new Error(`stored record with unknown codec ${stored[0]}`);
  const view = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
  return unpackOnce(view, HEADER, view.readUInt32LE(1)).toString('utf8');
}

/**
 * Registers `pack_record(text)` on a connection that writes records (the writer's worker, the
 * in-process writer of ':memory:', `packRows`): the statements of a commit plan pack there, so the
 * main thread only builds the text.
 * @param {import('better-sqlite3').Database} db
 */
export function registerRecordFunctions(db) {
  db.function('pack_record', { deterministic: true }, (/** @type {unknown} */ text) => {
    if (typeof text !== 'string') throw new TypeError('pack_record takes the JSON text of a record');
    return packRecord(text);
  });
}
