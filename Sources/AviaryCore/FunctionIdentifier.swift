/// A function reference in any of the forms the Lambda API accepts.
///
/// `name`, `name:qualifier`, the partial ARN `123456789012:function:name[:qualifier]` and the full ARN
/// `arn:aws:lambda:us-east-1:123456789012:function:name[:qualifier]`. Decoding of URL escapes happens
/// before, at the HTTP edge.
public struct FunctionIdentifier: Sendable, Hashable {
    public let name: FunctionName
    public let qualifier: Qualifier?

    public init(name: FunctionName, qualifier: Qualifier? = nil) {
        self.name = name
        self.qualifier = qualifier
    }

    /// Parses `raw` as seen in the `{FunctionName}` path segment or a `FunctionName` body field.
    ///
    /// - Parameters:
    ///   - scope: ARNs must name this server's region and account.
    ///   - field: the request member named in validation errors.
    ///   - maxLength: 256 for most operations, 140 where the model's `FunctionName` shape applies.
    public init(parsing raw: String, scope: AccountScope, field: String = "functionName", maxLength: Int = 256)
        throws(LambdaError)
    {
        // Made only when needed: the message is formatted on creation (this runs on every Invoke).
        var invalid: LambdaError { .patternMismatch(value: raw, field: field, pattern: Patterns.functionName) }
        guard raw.utf8.count <= maxLength || raw.count <= maxLength else {
            throw .tooLong(value: raw, field: field, max: maxLength)
        }
        var parts = raw.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if parts.first == "arn" {
            // arn : partition : lambda : region : account : function : name [: qualifier]
            guard parts.count == 7 || parts.count == 8, parts[1].hasPrefix("aws"), parts[2] == "lambda",
                Self.isRegion(parts[3]), Self.isAccount(parts[4]), parts[5] == "function"
            else { throw invalid }
            guard parts[3] == scope.region else {
                throw .resourceNotFound(
                    "Functions from '\(parts[3])' are not reachable in this region ('\(scope.region)')")
            }
            guard parts[4] == scope.accountID else {
                throw .functionNotFound(raw)
            }
            parts.removeFirst(6)
        } else if parts.count >= 3, parts[1] == "function" {
            // account : function : name [: qualifier]
            guard parts.count <= 4, Self.isAccount(parts[0]) else { throw invalid }
            guard parts[0] == scope.accountID else { throw .functionNotFound(raw) }
            parts.removeFirst(2)
        }
        guard parts.count == 1 || parts.count == 2 else { throw invalid }
        guard !parts[0].isEmpty, parts[0].allSatisfy(\.isNameCharacter) else { throw invalid }
        self.name = try FunctionName(validating: parts[0], field: field)
        if parts.count == 2 {
            let text = parts[1]
            guard text == VersionSelector.latestName || (!text.isEmpty && text.allSatisfy(\.isNameCharacter)) else {
                throw invalid
            }
            self.qualifier = try Qualifier(validating: text, field: field)
        } else {
            self.qualifier = nil
        }
    }

    /// Combines the qualifier derived from the name with a `?Qualifier=` parameter, as AWS does:
    /// either may be given; both must then agree.
    public func qualified(by parameter: Qualifier?) throws(LambdaError) -> FunctionIdentifier {
        switch (qualifier, parameter) {
        case (_, nil): return self
        case (nil, let parameter?): return FunctionIdentifier(name: name, qualifier: parameter)
        case (let derived?, let parameter?):
            guard derived == parameter else {
                throw .invalidParameterValue(
                    "The derived qualifier from the function name does not match the specified qualifier.")
            }
            return self
        }
    }

    static func isRegion(_ text: String) -> Bool {
        // [a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d
        let pieces = text.split(separator: "-", omittingEmptySubsequences: false)
        guard pieces.count >= 3, pieces[0].count == 2, pieces[0].allSatisfy({ $0.isASCII && $0.isLowercase }),
            let last = pieces.last, last.count == 1, last.allSatisfy(\.isASCIIDigit)
        else { return false }
        return pieces.dropFirst().dropLast().allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isLowercase } }
    }

    static func isAccount(_ text: String) -> Bool {
        text.count == 12 && text.allSatisfy(\.isASCIIDigit)
    }
}
