import Crypto
public import Foundation
import Synchronization

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
    let signingKeys = SigningKeyCache()

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
        let (date, region, service, terminator) = (authorization.date, authorization.region, authorization.service, authorization.terminator)
        let signer = signingKeys.signer(for: .init(secret: key.secretAccessKey, date: date, region: region, service: service)) {
            Self.signingKey(secret: key.secretAccessKey, scope: [date, region, service, terminator])
        }
        return PendingSignature(
            user: key.user,
            signer: signer,
            canonicalRequestPrefix: request.canonicalRequestPrefix(signedHeaders: authorization.signedHeaders),
            stringToSignPrefix: "\(Self.algorithm)\n\(timestamp)\n\(date)/\(region)/\(service)/\(terminator)\n",
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

    /// `20150830T123600Z`, and nothing looser: no fractions, no February 31, no second 60.
    ///
    /// Computed rather than parsed by Foundation, which cost more than the rest of the check. It answers as
    /// Foundation's Gregorian calendar did, down to dates before 15 October 1582 being Julian (and the ten
    /// days before it not existing): such dates are long expired, but they stay "expired", not "malformed".
    static func parseTimestamp(_ text: String) -> Date? {
        var bytes = text.utf8.makeIterator()
        func number(digits: Int) -> Int? {
            var value = 0
            for _ in 0..<digits {
                guard let byte = bytes.next(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let year = number(digits: 4), let month = number(digits: 2), let day = number(digits: 2),
            bytes.next() == UInt8(ascii: "T"), let hour = number(digits: 2), let minute = number(digits: 2),
            let second = number(digits: 2), bytes.next() == UInt8(ascii: "Z"), bytes.next() == nil,
            (1...12).contains(month), hour < 24, minute < 60, second < 60
        else { return nil }
        let julian = (year, month, day) < (1582, 10, 15)
        guard !julian || (year, month, day) < (1582, 10, 5) else { return nil }
        let leap = year % 4 == 0 && (julian || year % 100 != 0 || year % 400 == 0)
        let daysInMonth =
            switch month {
            case 2: leap ? 29 : 28
            case 4, 6, 9, 11: 30
            default: 31
            }
        guard (1...daysInMonth).contains(day) else { return nil }
        // The Julian Day Number, counting years from March so that February's length comes last.
        let fromMarch = month <= 2 ? 1 : 0
        let y = year + 4800 - fromMarch
        let m = month + 12 * fromMarch - 3
        let julianDay =
            day + (153 * m + 2) / 5 + 365 * y + y / 4 + (julian ? -32083 : -y / 100 + y / 400 - 32045)
        let seconds = (julianDay - 2_440_588) * 86_400 + hour * 3600 + minute * 60 + second
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    static func format(_ date: Date) -> String {
        timestampStyle.format(Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)))
    }
}

/// A signature whose head checks passed; the body decides.
public struct PendingSignature: Sendable {
    /// The user of the access key that claims to have signed.
    public let user: String
    /// An HMAC keyed with the signing key, not yet fed.
    let signer: HMAC<SHA256>
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
        var canonicalRequest = SHA256()
        canonicalRequest.update(utf8: canonicalRequestPrefix)
        canonicalRequest.update(utf8: payloadHash)
        var stringToSign = signer
        // One update: each call into HMAC's generic `update(data:)` costs more than joining the two.
        stringToSign.update(utf8: stringToSignPrefix + SignedRequest.hex(canonicalRequest.finalize()))
        return stringToSign.finalize()
    }
}

// Feed a text's bytes where they are, without copying them into `Data`.
extension SHA256 {
    mutating func update(utf8 text: String) {
        var text = text
        text.withUTF8 { update(bufferPointer: UnsafeRawBufferPointer($0)) }
    }
}

extension HMAC {
    mutating func update(utf8 text: String) {
        var text = text
        text.withUTF8 { update(data: UnsafeRawBufferPointer($0)) }
    }
}

/// Signing keys already derived, by secret and credential scope, each as an HMAC keyed with it. A key is the
/// same for every request of a day to one region and service, so nearly every request finds it here instead
/// of computing four HMACs and keying a fifth.
final class SigningKeyCache: Sendable {
    struct Scope: Hashable {
        var secret: String
        var date: String
        var region: String
        var service: String
    }

    /// Callers choose the scope (on `/v1`, any region and service), so past this many the cache starts over.
    static let capacity = 1024

    private let signers = Mutex<[Scope: HMAC<SHA256>]>([:])

    /// An HMAC keyed with the signing key of `scope`, which `derive` computes the first time. Each caller
    /// feeds its own copy: the hash states underneath are copied on write.
    func signer(for scope: Scope, derive: () -> SymmetricKey) -> HMAC<SHA256> {
        if let signer = signers.withLock({ $0[scope] }) { return signer }
        let signer = HMAC<SHA256>(key: derive())
        signers.withLock { signers in
            if signers.count >= Self.capacity { signers.removeAll(keepingCapacity: true) }
            signers[scope] = signer
        }
        return signer
    }

    var count: Int { signers.withLock { $0.count } }
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
    ///
    /// Scans the header's bytes in place: the separators are ASCII, so a byte equal to one is that character.
    init(parsing header: String) throws(AuthFailure) {
        let trimmed = Self.trimmingBlanks(header[...])
        // As `Character.isWhitespace`, which looks at a character's first scalar; ASCII's are tab to CR, and space.
        let schemeEnd =
            trimmed.unicodeScalars.firstIndex {
                $0.isASCII ? $0 == " " || (0x09...0x0D).contains($0.value) : $0.properties.isWhitespace
            } ?? trimmed.endIndex
        let scheme = trimmed[..<schemeEnd]
        guard scheme == SigV4Verifier.algorithm else {
            throw .incomplete(
                "Unsupported Authorization scheme '\(scheme.prefix(32))': requests must be signed with AWS Signature Version 4 "
                    + "(\(SigV4Verifier.algorithm)).")
        }
        var credential: Substring?
        var signedHeaders: Substring?
        var signature: Substring?
        try Self.forEachPart(of: trimmed[schemeEnd...], separatedBy: ",") { part throws(AuthFailure) in
            // Nothing between two commas is skipped; blanks are a pair without `=`.
            guard !part.isEmpty else { return }
            let pair = Self.trimmingBlanks(part)
            guard let equals = pair.utf8.firstIndex(of: UInt8(ascii: "=")) else {
                throw .incomplete("Invalid key=value pair (missing equal-sign) in Authorization header.")
            }
            let value = pair[pair.utf8.index(after: equals)...]
            // A repeated key: the last one counts.
            switch pair[..<equals] {
            case "Credential": credential = value
            case "SignedHeaders": signedHeaders = value
            case "Signature": signature = value
            default: break
            }
        }
        guard let credential, let signedHeaders, let signature else {
            let missing = [("Credential", credential), ("Signature", signature), ("SignedHeaders", signedHeaders)]
                .filter { $0.1 == nil }
            throw .incomplete(missing.map { "Authorization header requires '\($0.0)' parameter." }.joined(separator: " "))
        }
        var scope: [String] = []
        scope.reserveCapacity(5)
        Self.forEachPart(of: credential, separatedBy: "/") { scope.append(String($0)) }
        guard scope.count == 5, !scope[0].isEmpty else {
            throw .incomplete(
                "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '\(credential)'")
        }
        (accessKeyID, date, region, service, terminator) = (scope[0], scope[1], scope[2], scope[3], scope[4])
        var names: [String] = []
        Self.forEachPart(of: signedHeaders, separatedBy: ";") { name in
            if !name.isEmpty { names.append(name.lowercased()) }
        }
        self.signedHeaders = names
        guard !self.signedHeaders.isEmpty else { throw .incomplete("Authorization header requires 'SignedHeaders' parameter.") }
        // A signature that is not 64 hex digits cannot match; it is reported as any other mismatch.
        var bytes: [UInt8] = []
        if signature.utf8.count == 64 {
            bytes.reserveCapacity(32)
            var digits = signature.utf8.makeIterator()
            while let high = digits.next().flatMap(SignedRequest.hexValue), let low = digits.next().flatMap(SignedRequest.hexValue) {
                bytes.append(high << 4 | low)
            }
        }
        self.signature = bytes.count == 32 ? bytes : []
    }

    /// Calls `body` with each run of `text` between separators, empty ones included.
    static func forEachPart<E: Error>(
        of text: Substring, separatedBy separator: Unicode.Scalar, _ body: (Substring) throws(E) -> Void
    ) throws(E) {
        var start = text.startIndex
        while true {
            let end = text.utf8[start...].firstIndex(of: UInt8(ascii: separator)) ?? text.endIndex
            try body(text[start..<end])
            guard end < text.endIndex else { return }
            start = text.utf8.index(after: end)
        }
    }

    /// Trimmed of what Foundation's `CharacterSet.whitespaces` holds: space, tab, the other space separators
    /// (Unicode's Zs) and the zero-width space.
    static func trimmingBlanks(_ text: Substring) -> Substring {
        func isBlank(_ scalar: Unicode.Scalar) -> Bool {
            scalar.isASCII
                ? scalar == " " || scalar == "\t" : scalar == "\u{200B}" || scalar.properties.generalCategory == .spaceSeparator
        }
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isBlank($0) }), let last = scalars.lastIndex(where: { !isBlank($0) }) else {
            return text[text.endIndex...]
        }
        return Substring(scalars[first...last])
    }
}
