public import AviaryCore
public import AviaryRuntime
public import AviaryStore
import Foundation
import HTTPTypes
public import Hummingbird
import NIOCore
import NIOFoundationCompat

/// The AWS Lambda control-plane REST API: functions, versions and aliases.
///
/// Handlers parse and validate at the edge into Core value types, apply Core's rules through the store,
/// and shape responses exactly as botocore's model describes them.
public struct LambdaAPI: Sendable {
    let store: RegistryStore
    let code: CodeStore
    let runtime: FunctionRuntime
    let events: EventQueue
    let scope: AccountScope

    /// Largest CreateFunction / UpdateFunctionCode request AWS accepts (a 50 MB zip, base64-encoded, plus JSON).
    static let maxCodeRequestBytes = 70_167_211
    static let maxRequestBytes = 6 * 1024 * 1024

    public init(store: RegistryStore, code: CodeStore, runtime: FunctionRuntime, events: EventQueue, scope: AccountScope) {
        self.store = store
        self.code = code
        self.runtime = runtime
        self.events = events
        self.scope = scope
    }

    public func addRoutes(to router: Router<LambdaRequestContext>) {
        let functions = router.group("2015-03-31/functions")
        functions.post(use: createFunction)
        functions.get(use: listFunctions)
        functions.get(":name", use: getFunction)
        functions.delete(":name", use: deleteFunction)
        functions.get(":name/configuration", use: getFunctionConfiguration)
        functions.put(":name/configuration", use: updateFunctionConfiguration)
        functions.put(":name/code", use: updateFunctionCode)
        functions.post(":name/versions", use: publishVersion)
        functions.post(":name/invocations", use: invoke)
        functions.get(":name/versions", use: listVersionsByFunction)
        functions.post(":name/aliases", use: createAlias)
        functions.get(":name/aliases", use: listAliases)
        functions.get(":name/aliases/:alias", use: getAlias)
        functions.put(":name/aliases/:alias", use: updateAlias)
        functions.delete(":name/aliases/:alias", use: deleteAlias)
        router.get("2016-08-19/account-settings", use: getAccountSettings)
        router.put("2017-10-31/functions/:name/concurrency", use: putFunctionConcurrency)
        router.get("2019-09-30/functions/:name/concurrency", use: getFunctionConcurrency)
        router.delete("2017-10-31/functions/:name/concurrency", use: deleteFunctionConcurrency)
        router.get("v1/code/:sha", use: downloadCode)
    }
}

// MARK: - Edge parsing

extension LambdaAPI {
    /// The `{FunctionName}` path segment, URL-decoded and parsed in any of its forms.
    func identifier(_ context: LambdaRequestContext) throws -> FunctionIdentifier {
        let raw = try context.parameters.require("name")
        return try FunctionIdentifier(parsing: Self.percentDecoded(raw), scope: scope)
    }

    /// A path parameter as the client meant it (ARNs arrive as `arn%3Aaws%3A…`). Most names have no `%`,
    /// and Foundation's decoding is a visible cost on the invoke path, so it runs only when needed.
    static func percentDecoded(_ raw: String) -> String {
        raw.utf8.contains(UInt8(ascii: "%")) ? raw.removingPercentEncoding ?? raw : raw
    }

    /// The identifier combined with `?Qualifier=`.
    func qualifiedIdentifier(_ request: Request, _ context: LambdaRequestContext) throws -> FunctionIdentifier {
        let qualifier = try request.uri.queryParameters.get("Qualifier").flatMap { raw throws(LambdaError) in
            raw.isEmpty ? nil : try Qualifier(validating: raw)
        }
        return try identifier(context).qualified(by: qualifier)
    }

    /// Operations on the function itself refuse a qualified name.
    func unqualifiedName(_ context: LambdaRequestContext) throws -> FunctionName {
        let id = try identifier(context)
        guard id.qualifier == nil else {
            throw LambdaError.invalidParameterValue(
                "This operation is permitted on Lambda functions only. Aliases and versions do not support this "
                    + "operation. Please specify either a function name or an unqualified function ARN.")
        }
        return id.name
    }

    func aliasName(_ context: LambdaRequestContext) throws -> AliasName {
        let raw = try context.parameters.require("alias")
        return try AliasName(validating: Self.percentDecoded(raw))
    }

    /// Decodes a JSON body of at most `limit` bytes; an empty body reads as `{}`.
    func body<Body: Decodable>(
        _ type: Body.Type, of request: Request, limit: Int = maxRequestBytes, operation: String
    ) async throws -> Body {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw LambdaError(
                .requestEntityTooLarge, "Request must be smaller than \(limit) bytes for the \(operation) operation")
        }
        let data = buffer.readableBytes == 0 ? Data("{}".utf8) : Data(buffer: buffer)
        do {
            return try JSONDecoder().decode(Body.self, from: data)
        } catch let error as DecodingError {
            throw LambdaError(.invalidRequestContent, "Could not parse request body into json: \(Self.describe(error))")
        } catch {
            throw LambdaError(.invalidRequestContent, "Could not parse request body into json: \(error)")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .typeMismatch(let type, let context): return "expected \(type) at '\(path(context))'"
        case .valueNotFound(let type, let context): return "missing \(type) at '\(path(context))'"
        case .keyNotFound(let key, _): return "missing key '\(key.stringValue)'"
        case .dataCorrupted(let context): return context.debugDescription
        @unknown default: return "\(error)"
        }
    }

    /// Decodes the base64 `ZipFile`, refusing the code sources Aviary does not offer.
    func zipFile(_ zip: String?, s3: String?, image: String?) throws -> Data {
        if image != nil {
            throw LambdaError.invalidParameterValue("Aviary runs zip packages only: ImageUri is not supported.")
        }
        if s3 != nil {
            throw LambdaError.invalidParameterValue(
                "Aviary takes code as ZipFile only: S3Bucket/S3Key are not supported. Upload the zip with --zip-file.")
        }
        guard let zip else { throw LambdaError.invalidParameterValue("Please provide a source for function code.") }
        guard let data = Data(base64Encoded: zip) else {
            throw LambdaError(.invalidRequestContent, "Could not decode ZipFile: not valid base64")
        }
        return data
    }

    /// The audit entry of a Lambda API change (recorded in the same transaction as the change): the actor
    /// is the user of the key that signed the request, or `anonymous` on a server without keys; the source
    /// is the client's address.
    func audit(_ action: String, _ context: LambdaRequestContext, function: FunctionName, alias: AliasName? = nil) -> AuditEvent {
        AuditEvent(
            at: RegistryStore.systemNow(), actor: context.principal ?? "anonymous", source: context.sourceIP, action: action, function: function,
            alias: alias, details: ["requestId": context.requestID])
    }

    /// One encoder for all responses: it holds no per-call state, and building one per response shows up
    /// in profiles.
    static let encoder = JSONEncoder()

    func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try Self.encoder.encode(value)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    func wire(
        _ function: LambdaFunction, _ version: VersionSelector, arn: String? = nil
    ) -> FunctionConfigurationWire {
        FunctionConfigurationWire(
            name: function.name, version: version, configuration: function.configuration(of: version)!,
            arn: arn ?? scope.functionARN(function.name, qualifier: version), scope: scope)
    }

    func wire(_ version: PublishedVersion, of name: FunctionName, arn: String? = nil) -> FunctionConfigurationWire {
        FunctionConfigurationWire(
            name: name, version: .published(version.number), configuration: version.configuration,
            arn: arn ?? scope.functionARN(name, qualifier: version.number), scope: scope)
    }
}
