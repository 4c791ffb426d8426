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
        var lines = [method.uppercased(), Self.canonicalURI(path), Self.canonicalQuery(query)]
        for name in signedHeaders {
            // Several fields of one name are joined with commas; each value trimmed, inner runs of
            // whitespace collapsed to one space (SigV4's "Trimall").
            let values = headers.filter { $0.name == name }.map { $0.value.split(whereSeparator: \.isWhitespace).joined(separator: " ") }
            lines.append("\(name):\(values.joined(separator: ","))")
        }
        lines.append("")
        lines.append(signedHeaders.joined(separator: ";"))
        return lines.joined(separator: "\n") + "\n"
    }

    /// The path with `.`/`..` segments and empty segments removed, then URI-encoded once more: services other
    /// than S3 sign the already-encoded path encoded a second time (`%3A` becomes `%253A`).
    static func canonicalURI(_ rawPath: String) -> String {
        guard !rawPath.isEmpty else { return "/" }
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
        return uriEncode(Array((leading + segments.joined(separator: "/") + trailing).utf8), keepingSlash: true)
    }

    /// Each name and value decoded and re-encoded the AWS way, pairs sorted by name then value; a name
    /// without `=` has an empty value.
    static func canonicalQuery(_ rawQuery: String) -> String {
        rawQuery.split(separator: "&", omittingEmptySubsequences: true)
            .map { pair -> (String, String) in
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let value = parts.count > 1 ? parts[1] : ""
                return (uriEncode(percentDecoded(parts[0]), keepingSlash: false), uriEncode(percentDecoded(value), keepingSlash: false))
            }
            .sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// RFC 3986 encoding as SigV4 wants it: unreserved characters kept, every other byte `%XX` upper-case.
    static func uriEncode(_ bytes: [UInt8], keepingSlash: Bool) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(byte)
            case UInt8(ascii: "/") where keepingSlash:
                out.append(byte)
            default:
                out.append(contentsOf: [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            }
        }
        return String(decoding: out, as: UTF8.self)
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

    /// Lower-case hex of the SHA-256 of `data`: the payload hash and the canonical request's digest.
    static func sha256Hex(_ data: some DataProtocol) -> String {
        hex(SHA256.hash(data: data))
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes { out.append(contentsOf: [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]]) }
        return String(decoding: out, as: UTF8.self)
    }
}
