import AviaryCore
import Foundation
import GRDB

/// One row of `function`: the function's `$LATEST` and its counters. Configurations are stored as JSON
/// text: they are always read and written whole and never queried by field.
struct FunctionRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "function"
    var name: String
    var latest: String
    var lastVersionNumber: Int
    var tags: String
    var reservedConcurrency: Int?
}

/// One row of `version`: an immutable published version.
struct VersionRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "version"
    var function: String
    var number: Int
    var configuration: String
    var sourceRevisionId: String
}

/// One row of `alias`.
struct AliasRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "alias"
    var function: String
    var name: String
    var functionVersion: String
    var description: String
    var additionalVersion: Int?
    var additionalWeight: Double?
    var revisionId: String
    /// `StickyRouting`'s text form.
    var stickyKey: String?
}

/// One row of `function_url`: a function URL configuration, as JSON.
struct FunctionURLRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "function_url"
    var function: String
    /// The alias, or "" for the function's own URL.
    var alias: String
    var config: String
}

/// One row of `event_invoke_config`: a version's or alias's asynchronous invocation settings, as JSON.
struct EventInvokeConfigRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "event_invoke_config"
    var function: String
    var qualifier: String
    var config: String
}

/// JSON coding of the value types kept in text columns.
struct ColumnCoder {
    private let encoder: JSONEncoder
    private let decoder = JSONDecoder()

    init() {
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
    }

    func encode(_ value: some Encodable) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        try decoder.decode(type, from: Data(text.utf8))
    }
}

extension FunctionRow {
    init(_ function: LambdaFunction, coder: ColumnCoder) throws {
        self.init(
            name: function.name.rawValue, latest: try coder.encode(function.latest),
            lastVersionNumber: function.lastVersionNumber, tags: try coder.encode(function.tags),
            reservedConcurrency: function.reservedConcurrency)
    }
}

extension VersionRow {
    init(_ version: PublishedVersion, of function: FunctionName, coder: ColumnCoder) throws {
        self.init(
            function: function.rawValue, number: version.number.value,
            configuration: try coder.encode(version.configuration), sourceRevisionId: version.sourceRevisionId)
    }

    func published(coder: ColumnCoder) throws -> PublishedVersion {
        PublishedVersion(
            number: VersionNumber(number), configuration: try coder.decode(FunctionConfiguration.self, from: configuration),
            sourceRevisionId: sourceRevisionId)
    }
}

extension AliasRow {
    init(_ alias: Alias, of function: FunctionName) {
        self.init(
            function: function.rawValue, name: alias.name.rawValue, functionVersion: alias.functionVersion.description,
            description: alias.description, additionalVersion: alias.routing?.additionalVersion.value,
            additionalWeight: alias.routing?.weight.value, revisionId: alias.revisionId, stickyKey: alias.sticky?.description)
    }

    func alias() throws -> Alias {
        let selector: VersionSelector
        if functionVersion == VersionSelector.latestName {
            selector = .latest
        } else if let number = VersionNumber(functionVersion) {
            selector = .published(number)
        } else {
            throw StoreError("alias \(function):\(name) has a corrupt version '\(functionVersion)'")
        }
        var routing: AliasRouting?
        if let additionalVersion, let additionalWeight, let weight = Weight(additionalWeight) {
            routing = AliasRouting(additionalVersion: VersionNumber(additionalVersion), weight: weight)
        }
        let sticky = try stickyKey.map { key in
            do { return try StickyRouting(parsing: key) } catch {
                throw StoreError("alias \(function):\(name) has a corrupt sticky key '\(key)'")
            }
        }
        return Alias(
            name: AliasName(trusted: name), functionVersion: selector, description: description, routing: routing,
            revisionId: revisionId, sticky: sticky)
    }
}
