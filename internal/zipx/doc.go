// Package zipx reads and rewrites zip archives at the level of raw
// records, as APK and IPA signers need: it reports where every local file
// header and its data sit in the file, and writes entries back byte for
// byte (optionally moved, with apksig-style alignment padding) without
// inflating or deflating them.
//
// Start with [Read], which parses the End of Central Directory record
// (zip64 included), the central directory, and gives an [Archive] whose
// [Entry] values carry the raw central directory record and the offset of
// the local header. [Entry.Local] reads the local header to find the data.
// Writers build their records with [FileHeader], [Local.LocalHeaderWithExtra],
// [WithHeaderOffset] and [EOCDWith], copying data with [CopyRange].
//
// Hostile input: [Read] (or [ReadLimits] with [Limits]) checks every size
// and offset with overflow-safe arithmetic before using it, bounds entry
// counts, the central directory, name and extra field lengths, and
// refuses unsafe names ([CheckName], [NameError]), methods other than
// stored and deflate, encryption and multi-disk records
// ([UnsupportedError]). [Archive.CheckRecords] then reads the local
// headers (a few large reads for many small entries) and data
// descriptors and refuses those that disagree with the central directory
// ([MismatchError]) and records that overlap ([OverlapError]). All these
// errors match [ErrUnsafe]; their messages say what to do.
//
// Zip64: [Read] takes zip64 end records and extra fields; [WithZip64],
// [LocalWithZip64] and [EndRecords] write them as java.util.zip does, for
// archives of 65,535 entries or more and entries or offsets past 4 GiB.
// Package ziptest builds archives field by field for tests, including
// the table of hostile variants every format's reader is tested with.
//
// [AlignExtra] builds the local-header extra field that aligns an entry's
// data the way apksig and zipalign do: it drops old alignment fields
// (id 0xd935 and zero padding) and appends a 0xd935 field
// {uint16 alignment, zero padding}.
//
// [Deflate] compresses exactly as zlib 1.2.x does at a given level (raw
// deflate, default window and memory settings), so that small files a
// signer writes (JAR manifests and signatures) come out byte-identical to
// Java's java.util.zip.Deflater.
//
// Format reference: PKWARE APPNOTE.TXT 6.3; apksig's ZipUtils,
// LocalFileRecord and CentralDirectoryRecord for the APK conventions.
package zipx
