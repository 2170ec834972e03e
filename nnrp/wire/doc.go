// Package wire encodes and decodes NNRP/1 (line nnrp-1-preview4) packets.
//
// A packet is a 40-byte common header, a fixed-length metadata region whose
// layout depends on the message type, and a body. The references in comments
// ("C§3.2", "D§5.2") point into SPEC-control.md and SPEC-data.md.
//
// Conventions shared by every codec in this package:
//
//   - Each metadata type has Len (its exact encoded size), Append (validate,
//     then append to the caller's buffer) and a Parse function
//     Parse<Name>(b) (T, int, error) that reads at most len(b) bytes and
//     returns the number of bytes consumed.
//   - Decoders never panic and never read past their input. A short input
//     fails with an error wrapping io.ErrUnexpectedEOF.
//   - Every violation is a *HeaderError (framing; always fatal for the
//     connection) or a *MessageError (one message's metadata or body; the
//     session layer decides whether it is fatal). Both carry the NNRP error
//     code to send; see CodeOf.
//   - Decoders of data-plane messages allocate nothing: views alias the
//     packet buffer, which the caller must keep alive and unmodified for as
//     long as it uses them.
//   - Encoders refuse to write what the decoders would reject.
package wire
