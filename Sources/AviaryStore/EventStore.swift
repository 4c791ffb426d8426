import AviaryCore
import Foundation
import GRDB

/// The durable queue of asynchronous invocations (table `event`), shared with the registry's database.
public struct EventStore: Sendable {
    let writer: any DatabaseWriter

    /// Stores an event; it is on disk when this returns, so a 202 may follow.
    public func enqueue(_ event: QueuedEvent) async throws {
        try await writer.write { db in try EventRow(event).insert(db) }
    }

    /// Every queued event, the soonest due first.
    public func all() async throws -> [QueuedEvent] {
        try await writer.read { db in try EventRow.order(Column("dueAt")).fetchAll(db).map(\.event) }
    }

    /// Records a failed run and when to try again.
    public func reschedule(_ event: QueuedEvent) async throws {
        try await writer.write { db in try EventRow(event).update(db) }
    }

    /// Removes an event that ran (or ran out of attempts).
    public func remove(requestID: String) async throws {
        _ = try await writer.write { db in try EventRow.deleteOne(db, key: requestID) }
    }
}

struct EventRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "event"
    var requestId: String
    var function: String
    var qualifier: String?
    var payload: Data
    var attempts: Int
    var enqueuedAt: Int64
    var dueAt: Int64

    init(_ event: QueuedEvent) {
        requestId = event.requestID
        function = event.function.rawValue
        qualifier = event.qualifier
        payload = event.payload
        attempts = event.attempts
        enqueuedAt = event.enqueuedAt.millisecondsSince1970
        dueAt = event.dueAt.millisecondsSince1970
    }

    var event: QueuedEvent {
        QueuedEvent(
            requestID: requestId, function: FunctionName(trusted: function), qualifier: qualifier, payload: payload,
            attempts: attempts, enqueuedAt: Timestamp(millisecondsSince1970: enqueuedAt),
            dueAt: Timestamp(millisecondsSince1970: dueAt))
    }
}

extension RegistryStore {
    /// The event queue kept in the same database.
    public var events: EventStore { EventStore(writer: writer) }
}
