import Crypto
public import Foundation

/// Checks AWS Signature Version 4 (`Authorization: AWS4-HMAC-SHA256 …`) against the configured access keys,
/// building the canonical request as botocore does for services other than S3.
///
/// Verification has two stages so that a server reads a request's body only for a caller worth it:
/// `check` needs only the head (header syntax, known key, credential scope, clock skew) and returns a
/// ``PendingSignature``; its `verify(body:)` then hashes the body and compares signatures. Time is an input.
///
/// ```swift
/// let pending = try verifier.check(request, for: .init(region: "us-east-1", service: "lambda"), now: Date())
/// let user = try pending.verify(body: bodyBytes)
/// ```
public struct SigV4Verifier: Sendable {
    public static let algorithm = "AWS4-HMAC-SHA256"
    /// How far `X-Amz-Date` may be from the server's clock, either way.
    public static let allowedSkew: TimeInterval = 15 * 60

    public let keys: AuthKeys

    public init(keys: AuthKeys) {
        self.keys = keys
    }

    /// The region and service a credential scope must name; `nil` accepts any.
    public struct Audience: Sendable {
        public var region: String?
        public var service: String?

        public init(region: String?, service: String?) {
            self.region = region
            self.service = service
        }
    }

    /// Everything that can be checked without the body; throws AWS's error for the first problem found.
    public func check(_ request: SignedRequest, for audience: Audience, now: Date) throws(AuthFailure) -> PendingSignature {
        guard let header = request.header("authorization") else { throw .missingToken }
        let authorization = try Authorization(parsing: header)
        guard let key = keys.accessKey(id: authorization.accessKeyID) else { throw .unrecognizedClient }
        guard authorization.terminator == "aws4_request" else {
            throw .invalidSignature("Credential should be scoped with a valid terminator: 'aws4_request', not '\(authorization.terminator)'.")
        }
        if let service = audience.service, authorization.service != service {
            throw .invalidSignature("Credential should be scoped to correct service: '\(service)'.")
        }
        if let region = audience.region, authorization.region != region {
            throw .invalidSignature(
                "Credential should be scoped to a valid region, not '\(authorization.region)'. This server's region is '\(region)'.")
        }
        guard authorization.signedHeaders.contains("host") else {
            throw .invalidSignature("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
        }
        guard let timestamp = request.header("x-amz-date") else {
            throw .incomplete("Authorization header requires existence of a 'X-Amz-Date' header.")
        }
        guard let signedAt = Self.parseTimestamp(timestamp) else {
            throw .incomplete("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
        }
        guard timestamp.hasPrefix(authorization.date) && authorization.date.count == 8 else {
            throw .invalidSignature(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
                    + "'\(authorization.date)' != '\(timestamp.prefix(8))', from '\(timestamp)'.")
        }
        if signedAt < now.addingTimeInterval(-Self.allowedSkew) {
            throw .invalidSignature(
                "Signature expired: \(timestamp) is now earlier than \(Self.format(now.addingTimeInterval(-Self.allowedSkew))) "
                    + "(\(Self.format(now)) - \(Int(Self.allowedSkew / 60)) min.)")
        }
        if signedAt > now.addingTimeInterval(Self.allowedSkew) {
            throw .invalidSignature(
                "Signature not yet current: \(timestamp) is still later than \(Self.format(now.addingTimeInterval(Self.allowedSkew))) "
                    + "(\(Self.format(now)) + \(Int(Self.allowedSkew / 60)) min.)")
        }
        let scope = [authorization.date, authorization.region, authorization.service, authorization.terminator]
        return PendingSignature(
            user: key.user,
            signingKey: Self.signingKey(secret: key.secretAccessKey, scope: scope),
            canonicalRequestPrefix: request.canonicalRequestPrefix(signedHeaders: authorization.signedHeaders),
            stringToSignPrefix: "\(Self.algorithm)\n\(timestamp)\n\(scope.joined(separator: "/"))\n",
            declaredPayloadHash: request.header("x-amz-content-sha256"),
            signature: authorization.signature)
    }

    /// `HMAC("AWS4" + secret, date)`, then region, service and terminator in turn.
    static func signingKey(secret: String, scope: [String]) -> SymmetricKey {
        var key = SymmetricKey(data: Data("AWS4\(secret)".utf8))
        for part in scope {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return key
    }

    static let timestampStyle = Date.ISO8601FormatStyle(
        dateSeparator: .omitted, dateTimeSeparator: .standard, timeSeparator: .omitted, timeZone: TimeZone(identifier: "UTC")!)

    /// `20150830T123600Z`, and nothing looser: Foundation's parser alone would take fractions or February 31.
    static func parseTimestamp(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count == 16, bytes[8] == UInt8(ascii: "T"), bytes[15] == UInt8(ascii: "Z"),
            bytes[0..<8].allSatisfy({ (0x30...0x39).contains($0) }), bytes[9..<15].allSatisfy({ (0x30...0x39).contains($0) }),
            let date = try? timestampStyle.parse(text), timestampStyle.format(date) == text
        else { return nil }
        return date
    }

    static func format(_ date: Date) -> String {
        timestampStyle.format(Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)))
    }
}

/// A signature whose head checks passed; the body decides.
public struct PendingSignature: Sendable {
    /// The user of the access key that claims to have signed.
    public let user: String
    let signingKey: SymmetricKey
    let canonicalRequestPrefix: String
    let stringToSignPrefix: String
    /// `X-Amz-Content-SHA256`: signed in place of the body's hash, so it must then be the body's hash.
    let declaredPayloadHash: String?
    let signature: [UInt8]

    /// Hashes the body, recomputes the signature and compares it in constant time; returns the user.
    public func verify(body: some DataProtocol) throws(AuthFailure) -> String {
        let bodyHash = SignedRequest.sha256Hex(body)
        // `MAC == bytes` compares in constant time.
        guard expectedSignature(payloadHash: declaredPayloadHash ?? bodyHash) == signature else { throw .signatureMismatch }
        if let declaredPayloadHash, declaredPayloadHash.lowercased() != bodyHash {
            throw .invalidSignature("The provided 'x-amz-content-sha256' header does not match what was computed.")
        }
        return user
    }

    /// The signature of the request whose payload hashes to `payloadHash`.
    func expectedSignature(payloadHash: String) -> HMAC<SHA256>.MAC {
        let canonicalRequest = canonicalRequestPrefix + payloadHash
        let stringToSign = stringToSignPrefix + SignedRequest.sha256Hex(Data(canonicalRequest.utf8))
        return HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: signingKey)
    }
}

/// The fields of an `AWS4-HMAC-SHA256` `Authorization` header.
struct Authorization: Equatable {
    var accessKeyID: String
    var date: String
    var region: String
    var service: String
    var terminator: String
    var signedHeaders: [String]
    var signature: [UInt8]

    /// `AWS4-HMAC-SHA256 Credential=ID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b, Signature=hex`.
    init(parsing header: String) throws(AuthFailure) {
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        let scheme = trimmed.prefix { !$0.isWhitespace }
        guard scheme == SigV4Verifier.algorithm else {
            throw .incomplete(
                "Unsupported Authorization scheme '\(scheme.prefix(32))': requests must be signed with AWS Signature Version 4 "
                    + "(\(SigV4Verifier.algorithm)).")
        }
        var fields: [String: String] = [:]
        for part in trimmed.dropFirst(scheme.count).split(separator: ",") {
            let pair = part.trimmingCharacters(in: .whitespaces)
            guard let equals = pair.firstIndex(of: "=") else {
                throw .incomplete("Invalid key=value pair (missing equal-sign) in Authorization header.")
            }
            fields[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        let missing = ["Credential", "Signature", "SignedHeaders"].filter { fields[$0] == nil }
        guard missing.isEmpty, let credential = fields["Credential"], let signedHeaders = fields["SignedHeaders"],
            let signature = fields["Signature"]
        else {
            throw .incomplete(missing.map { "Authorization header requires '\($0)' parameter." }.joined(separator: " "))
        }
        let scope = credential.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard scope.count == 5, !scope[0].isEmpty else {
            throw .incomplete(
                "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '\(credential)'")
        }
        (accessKeyID, date, region, service, terminator) = (scope[0], scope[1], scope[2], scope[3], scope[4])
        self.signedHeaders = signedHeaders.split(separator: ";").map { $0.lowercased() }
        guard !self.signedHeaders.isEmpty else { throw .incomplete("Authorization header requires 'SignedHeaders' parameter.") }
        // A signature that is not 64 hex digits cannot match; it is reported as any other mismatch.
        var bytes: [UInt8] = []
        let digits = Array(signature.utf8)
        if digits.count == 64 {
            for index in stride(from: 0, to: 64, by: 2) {
                guard let high = SignedRequest.hexValue(digits[index]), let low = SignedRequest.hexValue(digits[index + 1]) else { break }
                bytes.append(high << 4 | low)
            }
        }
        self.signature = bytes.count == 32 ? bytes : []
    }
}
