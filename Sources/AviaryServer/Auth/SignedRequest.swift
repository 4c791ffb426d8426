import Crypto
import Foundation

/// The parts of an HTTP request that an AWS Signature Version 4 covers, as they arrived on the wire: the
/// path and query still percent-encoded, header names lower-cased, `host` among the headers.
public struct SignedRequest: Sendable {
    public var method: String
    /// The request path exactly as sent (percent-encoded), e.g. `/2015-03-31/functions/arn%3Aaws%3A…`.
    public var path: String
    /// The query exactly as sent, without the `?`.
    public var query: String
    /// Every header field in arrival order, names lower-cased.
    public var headers: [(name: String, value: String)]

    public init(method: String, path: String, query: String = "", headers: [(name: String, value: String)]) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers.map { ($0.name.lowercased(), $0.value) }
    }

    /// The first value of a header.
    public func header(_ name: String) -> String? {
        headers.first { $0.name == name }?.value
    }

    /// The canonical request up to, not including, the payload hash (which may need the body).
    func canonicalRequestPrefix(signedHeaders: [String]) -> String {
        var out = ""
        out.reserveCapacity(256)
        out += method.uppercased()
        out += "\n"
        out += Self.canonicalURI(path)
        out += "\n"
        out += Self.canonicalQuery(query)
        out += "\n"
        for name in signedHeaders {
            out += name
            out += ":"
            // Several fields of one name are joined with commas; each value trimmed, inner runs of
            // whitespace collapsed to one space (SigV4's "Trimall").
            var first = true
            for header in headers where header.name == name {
                if !first { out += "," }
                first = false
                // A value of visible ASCII alone has nothing to trim or collapse: most are taken as they are.
                if header.value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x80 }) {
                    out += header.value
                } else {
                    out += header.value.split(whereSeparator: \.isWhitespace).joined(separator: " ")
                }
            }
            out += "\n"
        }
        out += "\n"
        for (index, name) in signedHeaders.enumerated() {
            if index > 0 { out += ";" }
            out += name
        }
        out += "\n"
        return out
    }

    /// The path with `.`/`..` segments and empty segments removed, then URI-encoded once more: services other
    /// than S3 sign the already-encoded path encoded a second time (`%3A` becomes `%253A`).
    static func canonicalURI(_ rawPath: String) -> String {
        guard !rawPath.isEmpty else { return "/" }
        guard hasSegmentsToRemove(rawPath) else { return uriEncode(rawPath.utf8, keepingSlash: true) }
        var segments: [Substring] = []
        for segment in rawPath.split(separator: "/", omittingEmptySubsequences: true) where segment != "." {
            if segment == ".." {
                if !segments.isEmpty { segments.removeLast() }
            } else {
                segments.append(segment)
            }
        }
        let leading = rawPath.hasPrefix("/") ? "/" : ""
        let trailing = rawPath.hasSuffix("/") && !segments.isEmpty ? "/" : ""
        return uriEncode((leading + segments.joined(separator: "/") + trailing).utf8, keepingSlash: true)
    }

    /// Whether the path has a `.` or `..` segment, or an empty one other than before a leading or after a
    /// trailing `/`: most paths have none, and normalising would leave them as they are.
    static func hasSegmentsToRemove(_ rawPath: String) -> Bool {
        var length = 0
        var dots = 0
        var isFirst = true
        for byte in rawPath.utf8 {
            if byte == UInt8(ascii: "/") {
                if (length == 0 && !isFirst) || (length == dots && length > 0 && length <= 2) { return true }
                (length, dots, isFirst) = (0, 0, false)
            } else {
                length += 1
                if byte == UInt8(ascii: ".") { dots += 1 }
            }
        }
        return length == dots && length > 0 && length <= 2
    }

    /// Each name and value decoded and re-encoded the AWS way, pairs sorted by name then value; a name
    /// without `=` has an empty value.
    static func canonicalQuery(_ rawQuery: String) -> String {
        let pairs = rawQuery.split(separator: "&", omittingEmptySubsequences: true)
            .map { pair -> (String, String) in
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return (canonicalQueryComponent(parts[0]), parts.count > 1 ? canonicalQueryComponent(parts[1]) : "")
            }
            .sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        var out = ""
        for (index, (name, value)) in pairs.enumerated() {
            if index > 0 { out += "&" }
            out += name
            out += "="
            out += value
        }
        return out
    }

    /// A query name or value decoded and re-encoded; one of unreserved characters alone already is.
    static func canonicalQueryComponent(_ text: Substring) -> String {
        text.utf8.allSatisfy(isUnreserved) ? String(text) : uriEncode(percentDecoded(text), keepingSlash: false)
    }

    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
            true
        default: false
        }
    }

    /// RFC 3986 encoding as SigV4 wants it: unreserved characters kept, every other byte `%XX` upper-case.
    static func uriEncode(_ bytes: some Collection<UInt8>, keepingSlash: Bool) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 3) { out in
            var count = 0
            for byte in bytes {
                if isUnreserved(byte) || (keepingSlash && byte == UInt8(ascii: "/")) {
                    out[count] = byte
                    count += 1
                } else {
                    out[count] = UInt8(ascii: "%")
                    out[count + 1] = hexDigit(byte >> 4, uppercase: true)
                    out[count + 2] = hexDigit(byte & 0xF, uppercase: true)
                    count += 3
                }
            }
            return count
        }
    }

    /// `%XX` escapes decoded to bytes; anything else, including a malformed escape, kept as it is.
    static func percentDecoded(_ text: Substring) -> [UInt8] {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
                let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2])
            {
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return out
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    static func hexDigit(_ nibble: UInt8, uppercase: Bool) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : (uppercase ? UInt8(ascii: "A") : UInt8(ascii: "a")) + nibble - 10
    }

    /// Lower-case hex of the SHA-256 of `data`: the payload hash and the canonical request's digest.
    static func sha256Hex(_ data: some DataProtocol) -> String {
        hex(SHA256.hash(data: data))
    }

    static func hex(_ bytes: some ContiguousBytes) -> String {
        bytes.withUnsafeBytes { bytes in
            String(unsafeUninitializedCapacity: bytes.count * 2) { out in
                for (index, byte) in bytes.enumerated() {
                    out[2 * index] = hexDigit(byte >> 4, uppercase: false)
                    out[2 * index + 1] = hexDigit(byte & 0xF, uppercase: false)
                }
                return bytes.count * 2
            }
        }
    }
}
