/// Walks the records of a data file image, skipping corrupt stretches and finding where the valid data ends.
struct DataScanner {
    /// What a scan found besides the records.
    struct Outcome: Equatable {
        /// End of the last valid record; anything after it is a torn or corrupt tail.
        var validEnd: Int
        /// Corrupt stretches followed by valid records again (skipped, not fatal).
        var corruptRegions = 0
        var corruptBytes = 0
    }

    let limits: RecordLimits

    /// Calls `visit(offset, header)` for every valid record after the file header.
    func scan(_ bytes: UnsafeRawBufferPointer, visit: (Int, RecordHeader) -> Void) -> Outcome {
        var position = RecordFormat.fileHeaderSize
        var outcome = Outcome(validEnd: min(position, bytes.count))
        while position < bytes.count {
            if let header = validHeader(bytes, at: position) {
                visit(position, header)
                position += header.size
                outcome.validEnd = position
                continue
            }
            // Resynchronise: the next offset where a whole record checks out. A 64-bit checksum makes a false
            // match inside a value practically impossible.
            var next = position + 1
            var found = false
            while next + RecordFormat.headerSize <= bytes.count {
                if validHeader(bytes, at: next) != nil {
                    found = true
                    break
                }
                next += 1
            }
            guard found else { break }
            outcome.corruptRegions += 1
            outcome.corruptBytes += next - position
            position = next
        }
        return outcome
    }

    @inline(__always)
    private func validHeader(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> RecordHeader? {
        guard let header = RecordHeader(bytes, at: offset), header.isValid(in: bytes, at: offset, limits: limits)
        else { return nil }
        return header
    }
}
