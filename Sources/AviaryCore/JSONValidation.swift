/// Checks that bytes are one well-formed JSON value (RFC 8259, UTF-8; any value at the top level, as
/// Lambda accepts), without building anything: an Invoke payload is validated, not read, so parsing it
/// into objects (Foundation's `JSONSerialization`) was wasted work and memory on the hot path.
///
/// Iterative with an explicit stack: a hostile payload nested millions deep cannot exhaust the thread's
/// stack. Nesting deeper than `maxDepth` is refused, as Foundation's parser refuses it.
public enum JSONValidation {
    public static let maxDepth = 512

    public struct Failure: Error, Equatable, CustomStringConvertible, Sendable {
        /// Byte offset of the problem.
        public let offset: Int
        public let reason: String

        public var description: String { "\(reason) at byte \(offset)" }
    }

    /// Nil when `bytes` hold exactly one JSON value (surrounding whitespace allowed), else the first problem.
    public static func firstFailure(in bytes: UnsafeRawBufferPointer) -> Failure? {
        var scanner = Scanner(bytes: bytes)
        do throws(Failure) {
            try scanner.value()
            scanner.skipWhitespace()
            if scanner.index < bytes.count { throw scanner.failure("Unexpected \(scanner.describeCurrent()) after the JSON value") }
            return nil
        } catch {
            return error
        }
    }

    public static func firstFailure(in bytes: [UInt8]) -> Failure? {
        bytes.withUnsafeBytes { firstFailure(in: $0) }
    }

    private struct Scanner {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        func failure(_ reason: String) -> Failure { Failure(offset: index, reason: reason) }

        func describeCurrent() -> String {
            guard index < bytes.count else { return "end of input" }
            let byte = bytes[index]
            if byte >= 0x20 && byte < 0x7F { return "character '\(Character(Unicode.Scalar(byte)))' (code \(byte))" }
            return "byte 0x\(String(byte, radix: 16))"
        }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        /// One value, containers walked with an explicit stack of open brackets.
        mutating func value() throws(Failure) {
            var open: [UInt8] = []
            while true {
                skipWhitespace()
                guard index < bytes.count else { throw failure("Unexpected end of input") }
                // A value (possibly the start of a container).
                switch bytes[index] {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    let bracket = bytes[index]
                    guard open.count < JSONValidation.maxDepth else { throw failure("Too many nested arrays or objects") }
                    open.append(bracket)
                    index += 1
                    skipWhitespace()
                    let close = bracket == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                    if index < bytes.count, bytes[index] == close {
                        index += 1
                        open.removeLast()
                        break
                    }
                    if bracket == UInt8(ascii: "{") { try key() }
                    continue
                case UInt8(ascii: "\""): try string()
                case UInt8(ascii: "t"): try literal("true")
                case UInt8(ascii: "f"): try literal("false")
                case UInt8(ascii: "n"): try literal("null")
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
                default: throw failure("Unexpected \(describeCurrent())")
                }
                // After a value: close containers or go on to the next element.
                while let bracket = open.last {
                    skipWhitespace()
                    guard index < bytes.count else { throw failure("Unexpected end of input") }
                    let close = bracket == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                    if bytes[index] == close {
                        index += 1
                        open.removeLast()
                        continue
                    }
                    guard bytes[index] == UInt8(ascii: ",") else {
                        throw failure("Unexpected \(describeCurrent()): expected ',' or '\(Character(Unicode.Scalar(close)))'")
                    }
                    index += 1
                    if bracket == UInt8(ascii: "{") { try key() }
                    break
                }
                if open.isEmpty { return }
            }
        }

        /// `"name" :` inside an object.
        mutating func key() throws(Failure) {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
                throw failure("Unexpected \(describeCurrent()): expected a string key")
            }
            try string()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                throw failure("Unexpected \(describeCurrent()): expected ':'")
            }
            index += 1
        }

        mutating func literal(_ word: StaticString) throws(Failure) {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { throw failure("Unexpected end of input") }
            for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] {
                throw Failure(offset: index + offset, reason: "Unrecognized token")
            }
            index += count
        }

        mutating func digits() -> Int {
            let start = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
            return index - start
        }

        mutating func number() throws(Failure) {
            if bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count else { throw failure("Unexpected end of input in a number") }
            if bytes[index] == UInt8(ascii: "0") {
                index += 1
            } else if digits() == 0 {
                throw failure("Unexpected \(describeCurrent()) in a number")
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard digits() > 0 else { throw failure("Expected a digit after the decimal point") }
            }
            if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard digits() > 0 else { throw failure("Expected a digit in the exponent") }
            }
        }

        /// A string from its opening quote: escapes checked, no raw control characters, valid UTF-8.
        mutating func string() throws(Failure) {
            index += 1
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    return
                case UInt8(ascii: "\\"):
                    index += 1
                    guard index < bytes.count else { break }
                    switch bytes[index] {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                        UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        index += 1
                    case UInt8(ascii: "u"):
                        index += 1
                        for _ in 0..<4 {
                            guard index < bytes.count, Self.isHexDigit(bytes[index]) else {
                                throw failure("Invalid \\u escape in a string")
                            }
                            index += 1
                        }
                    default:
                        throw failure("Invalid escape in a string")
                    }
                case 0..<0x20:
                    throw failure("Unescaped control character in a string")
                case 0x20..<0x80:
                    index += 1
                default:
                    try multibyteCharacter()
                }
            }
            throw failure("Unterminated string")
        }

        /// One UTF-8 sequence of two to four bytes: no overlong forms, surrogates or values past U+10FFFF.
        mutating func multibyteCharacter() throws(Failure) {
            let lead = bytes[index]
            let length: Int
            var lower: UInt8 = 0x80
            var upper: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: (length, lower) = (3, 0xA0)
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: (length, upper) = (3, 0x9F)
            case 0xF0: (length, lower) = (4, 0x90)
            case 0xF1...0xF3: length = 4
            case 0xF4: (length, upper) = (4, 0x8F)
            default: throw failure("Invalid UTF-8")
            }
            guard index + length <= bytes.count else { throw failure("Invalid UTF-8") }
            let second = bytes[index + 1]
            guard second >= lower && second <= upper else { throw failure("Invalid UTF-8") }
            for offset in 2..<max(2, length) where bytes[index + offset] & 0xC0 != 0x80 {
                throw failure("Invalid UTF-8")
            }
            index += length
        }

        static func isHexDigit(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"), UInt8(ascii: "A")...UInt8(ascii: "F"): true
            default: false
            }
        }
    }
}
