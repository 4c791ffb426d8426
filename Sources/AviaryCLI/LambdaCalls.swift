import ArgumentParser
import AviaryCore
import AviaryTemplate
import Crypto
import Foundation

/// The Lambda API calls `aviary deploy template.yaml` makes, signed with SigV4 when AWS credentials are
/// in the environment (as the `aws` CLI would sign them), so they pass a server started with `--auth`.
struct LambdaCalls {
    let client: APIClient
    let credentials: Credentials?
    let region: String

    struct Credentials {
        let accessKeyID: String
        let secretAccessKey: String
    }

    init(client: APIClient, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.client = client
        if let id = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"], !id.isEmpty, !secret.isEmpty {
            credentials = Credentials(accessKeyID: id, secretAccessKey: secret)
        } else {
            credentials = nil
        }
        region = environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
    }

    /// A function's `$LATEST` as GetFunctionConfiguration describes it.
    struct Configuration {
        let codeSha256: String
        let runtime: String
        let handler: String
        let role: String
        let timeout: Int
        let memorySize: Int
        let description: String
        let environment: [String: String]
        let architectures: [String]

        /// Whether the template's settings are what the function has (absent settings at their defaults).
        func matches(_ settings: FunctionSettings) -> Bool {
            runtime == (settings.runtime ?? "") && handler == (settings.handler ?? "") && role == (settings.role ?? role)
                && timeout == (settings.timeout ?? FunctionSettings.defaultTimeout)
                && memorySize == (settings.memorySize ?? FunctionSettings.defaultMemorySize)
                && description == (settings.description ?? "") && environment == (settings.environment ?? [:])
                && architectures == (settings.architectures ?? ["x86_64"])
        }
    }

    struct AliasState {
        let version: String
        let weights: [String: Double]
    }

    func configuration(_ name: FunctionName) async throws -> Configuration? {
        guard let json = try await call("GetFunctionConfiguration", "GET", "/2015-03-31/functions/\(name)/configuration", missingIsNil: true) else {
            return nil
        }
        return Configuration(
            codeSha256: json["CodeSha256"] as? String ?? "", runtime: json["Runtime"] as? String ?? "",
            handler: json["Handler"] as? String ?? "", role: json["Role"] as? String ?? "", timeout: json["Timeout"] as? Int ?? 0,
            memorySize: json["MemorySize"] as? Int ?? 0, description: json["Description"] as? String ?? "",
            environment: (json["Environment"] as? [String: Any])?["Variables"] as? [String: String] ?? [:],
            architectures: json["Architectures"] as? [String] ?? ["x86_64"])
    }

    func alias(_ name: FunctionName, _ alias: AliasName) async throws -> AliasState? {
        guard let json = try await call("GetAlias", "GET", "/2015-03-31/functions/\(name)/aliases/\(alias)", missingIsNil: true) else {
            return nil
        }
        let weights = ((json["RoutingConfig"] as? [String: Any])?["AdditionalVersionWeights"] as? [String: Double]) ?? [:]
        return AliasState(version: json["FunctionVersion"] as? String ?? "", weights: weights)
    }

    /// Creates and publishes; returns version 1.
    func create(_ function: FunctionSpec, zip: Data) async throws -> String {
        var body = Self.settings(function.settings)
        body["FunctionName"] = function.name.rawValue
        body["Code"] = ["ZipFile": zip.base64EncodedString()]
        body["Publish"] = true
        let json = try await call("CreateFunction", "POST", "/2015-03-31/functions", body: body)
        return json?["Version"] as? String ?? "1"
    }

    func updateConfiguration(_ function: FunctionSpec) async throws {
        _ = try await call("UpdateFunctionConfiguration", "PUT", "/2015-03-31/functions/\(function.name)/configuration", body: Self.settings(function.settings))
    }

    func updateCode(_ name: FunctionName, zip: Data) async throws {
        _ = try await call("UpdateFunctionCode", "PUT", "/2015-03-31/functions/\(name)/code", body: ["ZipFile": zip.base64EncodedString()])
    }

    /// PublishVersion, refused if `$LATEST` is not the code just sent (someone else changed it).
    func publish(_ name: FunctionName, codeSha256: String) async throws -> String {
        let json = try await call("PublishVersion", "POST", "/2015-03-31/functions/\(name)/versions", body: ["CodeSha256": codeSha256])
        return json?["Version"] as? String ?? ""
    }

    func createAlias(_ name: FunctionName, _ alias: AliasName, version: String) async throws {
        _ = try await call("CreateAlias", "POST", "/2015-03-31/functions/\(name)/aliases", body: ["Name": alias.rawValue, "FunctionVersion": version])
    }

    func updateAlias(_ name: FunctionName, _ alias: AliasName, version: String) async throws {
        _ = try await call(
            "UpdateAlias", "PUT", "/2015-03-31/functions/\(name)/aliases/\(alias)",
            body: ["FunctionVersion": version, "RoutingConfig": ["AdditionalVersionWeights": [String: Double]()]])
    }

    /// Creates or updates the URL configuration of a function (`alias` nil) or alias so that it is what
    /// the template says; returns what it did, nil when it already was.
    func ensureURL(_ name: FunctionName, alias: AliasName?, _ spec: FunctionURLSpec) async throws -> String? {
        let path = "/2021-10-31/functions/\(name)/url"
        let query = alias.map { ["Qualifier": $0.rawValue] } ?? [:]
        var wanted: [String: Any] = ["AuthType": spec.authType.rawValue, "InvokeMode": spec.invokeMode ?? FunctionURLConfig.bufferedMode]
        var cors: [String: Any] = [:]
        if let c = spec.cors {
            if let value = c.allowCredentials { cors["AllowCredentials"] = value }
            if let value = c.allowHeaders { cors["AllowHeaders"] = value }
            if let value = c.allowMethods { cors["AllowMethods"] = value.map { $0.uppercased() } }
            if let value = c.allowOrigins { cors["AllowOrigins"] = value }
            if let value = c.exposeHeaders { cors["ExposeHeaders"] = value }
            if let value = c.maxAge { cors["MaxAge"] = value }
        }
        wanted["Cors"] = cors
        let target = alias.map { "\(name):\($0)" } ?? "\(name)"
        guard let current = try await call("GetFunctionUrlConfig", "GET", path, query: query, missingIsNil: true) else {
            let created = try await call("CreateFunctionUrlConfig", "POST", path, query: query, body: wanted)
            return "\(target): URL \(created?["FunctionUrl"] as? String ?? "") (\(spec.authType.rawValue))"
        }
        let same = current["AuthType"] as? String == spec.authType.rawValue
            && current["InvokeMode"] as? String == wanted["InvokeMode"] as? String
            && NSDictionary(dictionary: current["Cors"] as? [String: Any] ?? [:]).isEqual(to: cors)
        if same { return nil }
        _ = try await call("UpdateFunctionUrlConfig", "PUT", path, query: query, body: wanted)
        return "\(target): URL configuration updated (\(spec.authType.rawValue))"
    }

    /// Puts the asynchronous invocation settings of a function (`$LATEST`) or alias when they differ from
    /// what the template says; returns what it did, nil when they already were.
    func ensureEventInvokeConfig(_ name: FunctionName, alias: AliasName?, _ change: EventInvokeConfig.Change) async throws -> String? {
        let path = "/2019-09-25/functions/\(name)/event-invoke-config"
        let query = alias.map { ["Qualifier": $0.rawValue] } ?? [:]
        var wanted: [String: Any] = [:]
        if let value = change.maximumRetryAttempts { wanted["MaximumRetryAttempts"] = value }
        if let value = change.maximumEventAgeInSeconds { wanted["MaximumEventAgeInSeconds"] = value }
        var destinations: [String: Any] = [:]
        if let value = change.onSuccess { destinations["OnSuccess"] = ["Destination": value] }
        if let value = change.onFailure { destinations["OnFailure"] = ["Destination": value] }
        wanted["DestinationConfig"] = destinations
        let target = alias.map { "\(name):\($0)" } ?? "\(name)"
        if let current = try await call("GetFunctionEventInvokeConfig", "GET", path, query: query, missingIsNil: true) {
            let destinationsNow = current["DestinationConfig"] as? [String: Any] ?? [:]
            func destination(_ key: String) -> String? { (destinationsNow[key] as? [String: Any])?["Destination"] as? String }
            if current["MaximumRetryAttempts"] as? Int == change.maximumRetryAttempts
                && current["MaximumEventAgeInSeconds"] as? Int == change.maximumEventAgeInSeconds
                && destination("OnSuccess") == change.onSuccess && destination("OnFailure") == change.onFailure
            {
                return nil
            }
        }
        _ = try await call("PutFunctionEventInvokeConfig", "PUT", path, query: query, body: wanted)
        return "\(target): asynchronous invocation settings put"
    }

    static func settings(_ settings: FunctionSettings) -> [String: Any] {
        var body: [String: Any] = [
            "Timeout": settings.timeout ?? FunctionSettings.defaultTimeout,
            "MemorySize": settings.memorySize ?? FunctionSettings.defaultMemorySize,
            "Description": settings.description ?? "",
            "Environment": ["Variables": settings.environment ?? [:]],
        ]
        if let runtime = settings.runtime { body["Runtime"] = runtime }
        if let handler = settings.handler { body["Handler"] = handler }
        if let role = settings.role { body["Role"] = role }
        if let architectures = settings.architectures { body["Architectures"] = architectures }
        return body
    }

    /// One call: the decoded JSON, nil for a 404 when `missingIsNil`; any other error stops the deploy
    /// with the operation and the server's message.
    private func call(
        _ operation: String, _ method: String, _ path: String, query: [String: String] = [:], body: [String: Any]? = nil,
        missingIsNil: Bool = false
    ) async throws -> [String: Any]? {
        let data = try body.map { try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]) }
        let (status, response, headers) = try await client.raw(
            method, path, query: query, body: data, headers: signature(method, path, query: query, body: data ?? Data()),
            sendingToken: false)
        let json = (try? JSONSerialization.jsonObject(with: response)) as? [String: Any]
        if status == 404, missingIsNil { return nil }
        guard (200..<300).contains(status) else {
            let errorType = headers.first { ($0.key as? String)?.lowercased() == "x-amzn-errortype" }?.value as? String
            let code = errorType.map { String($0.prefix { $0 != ":" }) } ?? "HTTP \(status)"
            let message = json?["message"] as? String ?? json?["Message"] as? String ?? String(decoding: response.prefix(300), as: UTF8.self)
            let hint = status == 403 && credentials == nil ? " (the server requires SigV4: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)" : ""
            throw CleanExit.failure("\(operation) \(path.split(separator: "/").dropFirst(2).first ?? ""): \(code): \(message)\(hint)")
        }
        return json ?? [:]
    }

    /// SigV4 headers for the request (none without credentials). Aviary's paths and these calls' query
    /// values (alias names) have nothing to percent-encode, which keeps the canonical request simple.
    func signature(
        _ method: String, _ path: String, query: [String: String] = [:], body: Data, now: Date = Date()
    ) -> [String: String] {
        guard let credentials else { return [:] }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let timestamp = formatter.string(from: now)
        let day = String(timestamp.prefix(8))
        let host = client.endpoint.host.map { host in client.endpoint.port.map { "\(host):\($0)" } ?? host } ?? ""
        let payloadHash = Self.hex(SHA256.hash(data: body))
        let canonicalQuery = query.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
        let canonical = [method, path, canonicalQuery, "host:\(host)\nx-amz-date:\(timestamp)\n", "host;x-amz-date", payloadHash]
            .joined(separator: "\n")
        let scope = "\(day)/\(region)/lambda/aws4_request"
        let toSign = ["AWS4-HMAC-SHA256", timestamp, scope, Self.hex(SHA256.hash(data: Data(canonical.utf8)))].joined(separator: "\n")
        var key = SymmetricKey(data: Data("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [day, region, "lambda", "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Data(toSign.utf8), using: key))
        return [
            "X-Amz-Date": timestamp,
            "Authorization": "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=host;x-amz-date, Signature=\(signature)",
        ]
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
