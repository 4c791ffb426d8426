import AviaryCore
import AviaryStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension LambdaAPI {
    @Sendable func createFunction(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let body = try await body(
            CreateFunctionBody.self, of: request, limit: Self.maxCodeRequestBytes, operation: "CreateFunction")
        guard let rawName = body.FunctionName else {
            throw LambdaError.validation(value: "null", field: "functionName", constraint: "Member must not be null")
        }
        let id = try FunctionIdentifier(parsing: rawName, scope: scope, maxLength: 140)
        guard id.qualifier == nil else {
            throw LambdaError.patternMismatch(
                value: rawName, field: "functionName",
                pattern: #"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)"#)
        }
        if let packageType = body.PackageType, packageType != "Zip" {
            throw LambdaError.invalidParameterValue("Aviary runs zip packages only: PackageType \(packageType) is not supported.")
        }
        if let layers = body.Layers, !layers.isEmpty {
            throw LambdaError.invalidParameterValue("Aviary does not support layers; include dependencies in the zip.")
        }
        let settings = FunctionSettings(
            runtime: body.Runtime, handler: body.Handler, role: body.Role, description: body.Description,
            timeout: body.Timeout, memorySize: body.MemorySize, environment: body.Environment.map { $0.Variables ?? [:] },
            architectures: body.Architectures, ephemeralStorageSize: body.EphemeralStorage?.Size)
        try settings.validate()
        guard store.function(id.name) == nil else {
            throw LambdaError.resourceConflict("Function already exist: \(id.name)")
        }
        let zip = try zipFile(body.Code?.ZipFile, s3: body.Code?.S3Bucket ?? body.Code?.S3Key, image: body.Code?.ImageUri)
        let artifact = try code.ingest(zip)
        let publish = body.Publish ?? false
        let tags = body.Tags ?? [:]
        let (function, published) = try await store.create(id.name, audit: audit("CreateFunction", context, function: id.name)) { context in
            let (function, published) = try LambdaFunction.create(
                name: id.name, settings: settings, code: artifact, tags: tags, publish: publish, context: context)
            return (function, (function, published))
        }
        // With Publish the response describes the new version, under the unqualified ARN (as AWS does).
        let configuration =
            published.map { wire($0, of: id.name, arn: scope.functionARN(id.name)) }
            ?? wire(function, .latest, arn: scope.functionARN(id.name))
        return try json(configuration, status: .created)
    }

    @Sendable func getFunction(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let id = try qualifiedIdentifier(request, context)
        let function = try store.registry.function(id.name, scope: scope)
        let configuration = try configurationWire(function, qualifier: id.qualifier)
        let host = request.head.authority ?? "127.0.0.1"
        let hex = Data(base64Encoded: configuration.CodeSha256)?.map { String(format: "%02x", $0) }.joined() ?? ""
        return try json(
            GetFunctionWire(
                Configuration: configuration, Code: .init(Location: "http://\(host)\(CodeLinks.path(hex: hex, now: Date()))"),
                Tags: function.tags.isEmpty ? nil : function.tags,
                Concurrency: function.reservedConcurrency.map { ConcurrencyWire(ReservedConcurrentExecutions: $0) }))
    }

    @Sendable func getFunctionConfiguration(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let id = try qualifiedIdentifier(request, context)
        let function = try store.registry.function(id.name, scope: scope)
        return try json(try configurationWire(function, qualifier: id.qualifier))
    }

    /// The configuration a qualifier names, with the ARN AWS shows for that form of address.
    func configurationWire(_ function: LambdaFunction, qualifier: Qualifier?) throws -> FunctionConfigurationWire {
        let resolution = try function.resolve(qualifier, scope: scope)
        let arn = qualifier.map { scope.functionARN(function.name, qualifier: $0) } ?? scope.functionARN(function.name)
        return FunctionConfigurationWire(
            name: function.name, version: resolution.version, configuration: resolution.configuration, arn: arn,
            scope: scope)
    }

    @Sendable func updateFunctionCode(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let name = try unqualifiedName(context)
        let body = try await body(
            UpdateFunctionCodeBody.self, of: request, limit: Self.maxCodeRequestBytes, operation: "UpdateFunctionCode")
        let current = try store.registry.function(name, scope: scope)
        let zip = try zipFile(body.ZipFile, s3: body.S3Bucket ?? body.S3Key, image: body.ImageUri)
        let artifact = try code.ingest(zip)
        let architectures = body.Architectures
        let revisionId = body.RevisionId
        let publish = body.Publish ?? false
        if body.DryRun == true {
            // Validate everything, change nothing.
            var preview = current
            let context = ChangeContext(now: current.latest.lastModified, makeRevisionId: { current.latest.revisionId })
            _ = try preview.updateCode(
                artifact, architectures: architectures, expectedRevisionId: revisionId, publish: false, context: context)
            return try json(wire(preview, .latest, arn: scope.functionARN(name)))
        }
        let (function, published) = try await store.update(name, scope: scope, audit: audit("UpdateFunctionCode", context, function: name)) { function, context in
            let published = try function.updateCode(
                artifact, architectures: architectures, expectedRevisionId: revisionId, publish: publish,
                context: context)
            return (function, published)
        }
        if let published { return try json(wire(published, of: name)) }
        return try json(wire(function, .latest, arn: scope.functionARN(name)))
    }

    @Sendable func updateFunctionConfiguration(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let name = try unqualifiedName(context)
        let body = try await body(UpdateFunctionConfigurationBody.self, of: request, operation: "UpdateFunctionConfiguration")
        if let layers = body.Layers, !layers.isEmpty {
            throw LambdaError.invalidParameterValue("Aviary does not support layers; include dependencies in the zip.")
        }
        let settings = FunctionSettings(
            runtime: body.Runtime, handler: body.Handler, role: body.Role, description: body.Description,
            timeout: body.Timeout, memorySize: body.MemorySize, environment: body.Environment.map { $0.Variables ?? [:] },
            ephemeralStorageSize: body.EphemeralStorage?.Size)
        let revisionId = body.RevisionId
        let function = try await store.update(name, scope: scope, audit: audit("UpdateFunctionConfiguration", context, function: name)) { function, context in
            try function.updateConfiguration(settings, expectedRevisionId: revisionId, context: context)
            return function
        }
        return try json(wire(function, .latest, arn: scope.functionARN(name)))
    }

    @Sendable func deleteFunction(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let id = try qualifiedIdentifier(request, context)
        switch id.qualifier {
        case nil:
            try await store.delete(id.name, scope: scope, audit: audit("DeleteFunction", context, function: id.name))
        case .version(.latest)?:
            throw LambdaError.invalidParameterValue("$LATEST version cannot be deleted without deleting the function.")
        case .alias?:
            throw LambdaError.invalidParameterValue("Deletion of aliases is not currently supported.")
        case .version(.published(let number))?:
            try await store.update(id.name, scope: scope, audit: audit("DeleteFunction", context, function: id.name)) { function, _ in
                try function.deleteVersion(number)
            }
        }
        return Response(status: .noContent)
    }

    @Sendable func listFunctions(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let functionVersion = query.get("FunctionVersion")
        if let functionVersion, functionVersion != "ALL" {
            throw LambdaError.validation(
                value: functionVersion, field: "functionVersion", constraint: "Member must satisfy enum value set: [ALL]")
        }
        let allVersions = functionVersion == "ALL"
        let page = try store.registry.listFunctions(
            allVersions: allVersions, marker: query.get("Marker"), maxItems: try maxItems(query))
        let functions = page.items.map { item in
            FunctionConfigurationWire(
                name: item.name, version: item.version, configuration: item.configuration,
                arn: allVersions ? scope.functionARN(item.name, qualifier: item.version) : scope.functionARN(item.name),
                scope: scope, listing: true)
        }
        return try json(ListFunctionsWire(Functions: functions, NextMarker: page.nextMarker))
    }

    func maxItems(_ query: Parameters) throws -> Int? {
        guard let raw = query.get("MaxItems") else { return nil }
        guard let value = Int(raw) else {
            throw LambdaError.validation(value: raw, field: "maxItems", constraint: "Member must be an integer")
        }
        return value
    }

    @Sendable func getAccountSettings(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let registry = store.registry
        let usage = registry.usage
        return try json(
            AccountSettingsWire(
                AccountLimit: .init(UnreservedConcurrentExecutions: registry.unreservedConcurrency),
                AccountUsage: .init(TotalCodeSize: usage.totalCodeSize, FunctionCount: usage.functionCount)))
    }

    /// Serves a stored archive: the `Code.Location` GetFunction returns. A signed link (what GetFunction
    /// hands out) is checked here, and needs no credentials (`AuthMiddleware` lets it through); a link
    /// without a signature is served only to a caller the middleware let in.
    @Sendable func downloadCode(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let hex = try context.parameters.require("sha")
        let query = request.uri.queryParameters
        if let signature = query.get("Signature") {
            guard CodeLinks.isValid(hex: hex, expires: query.get("Expires"), signature: signature, now: Date()) else {
                return Response(
                    status: .forbidden, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: #"{"message":"The code link is invalid or has expired: call GetFunction again."}"#)))
            }
        }
        guard hex.count == 64, hex.allSatisfy(\.isHexDigit), let digest = Data(hexString: hex),
            let url = code.archive(sha256: digest.base64EncodedString())
        else {
            throw LambdaError.resourceNotFound("No code archive \(hex)")
        }
        let data = try Data(contentsOf: url)
        return Response(
            status: .ok, headers: [.contentType: "application/zip"], body: .init(byteBuffer: .init(bytes: data)))
    }
}

extension Data {
    init?(hexString: String) {
        var bytes: [UInt8] = []
        var index = hexString.startIndex
        while index < hexString.endIndex {
            let next = hexString.index(index, offsetBy: 2, limitedBy: hexString.endIndex) ?? hexString.endIndex
            guard let byte = UInt8(hexString[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self.init(bytes)
    }
}

extension LambdaAPI {
    @Sendable func putFunctionConcurrency(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let name = try unqualifiedName(context)
        let body = try await body(PutFunctionConcurrencyBody.self, of: request, operation: "PutFunctionConcurrency")
        guard let value = body.ReservedConcurrentExecutions else {
            throw LambdaError.validation(
                value: "null", field: "reservedConcurrentExecutions", constraint: "Member must not be null")
        }
        _ = try store.registry.function(name, scope: scope)
        try store.registry.validateReservation(value, for: name)
        try await store.update(name, scope: scope, audit: audit("PutFunctionConcurrency", context, function: name)) { function, _ in
            function.reservedConcurrency = value
        }
        return try json(ConcurrencyWire(ReservedConcurrentExecutions: value))
    }

    @Sendable func getFunctionConcurrency(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let name = try unqualifiedName(context)
        let function = try store.registry.function(name, scope: scope)
        return try json(ConcurrencyWire(ReservedConcurrentExecutions: function.reservedConcurrency))
    }

    @Sendable func deleteFunctionConcurrency(_ request: Request, context: LambdaRequestContext) async throws -> Response {
        let name = try unqualifiedName(context)
        try await store.update(name, scope: scope, audit: audit("DeleteFunctionConcurrency", context, function: name)) { function, _ in
            function.reservedConcurrency = nil
        }
        return Response(status: .noContent)
    }
}
