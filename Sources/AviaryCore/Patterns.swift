/// The regular expressions of botocore's Lambda model, quoted in AWS's validation messages.
///
/// They are only *quoted*; matching is done by small hand-written scanners in each value type, which
/// accept exactly the same strings without a regex engine on the request path.
enum Patterns {
    static let functionName =
        #"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?"#
    static let alias = #"(?!^[0-9]+$)([a-zA-Z0-9-_]+)"#
    static let version = #"(\$LATEST|[0-9]+)"#
    static let qualifier = #"(|[a-zA-Z0-9$_-]+)"#
    static let role = #"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+"#
    static let handler = #"[^\s]+"#
    static let environmentVariableName = #"[a-zA-Z]([a-zA-Z0-9_])+"#
}

extension Character {
    /// `[a-zA-Z0-9-_]`, the alphabet of function and alias names. Byte comparisons, no Unicode tables:
    /// this runs on every request.
    var isNameCharacter: Bool {
        guard let byte = asciiValue else { return false }
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            return true
        default:
            return false
        }
    }

    /// `[0-9]`
    var isASCIIDigit: Bool {
        guard let byte = asciiValue else { return false }
        return byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}
