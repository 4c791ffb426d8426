import Foundation
import ZIPFoundation

/// Builds zip archives in memory, including hostile ones, for tests.
enum ZipBuilder {
    enum Entry {
        case file(String, String)
        case symlink(String, target: String)
    }

    static func zip(_ entries: [Entry]) throws -> Data {
        let archive = try Archive(data: Data(), accessMode: .create)
        for entry in entries {
            switch entry {
            case .file(let path, let contents):
                let data = Data(contents.utf8)
                try archive.addEntry(
                    with: path, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate
                ) { position, size in data.subdata(in: Int(position)..<Int(position) + size) }
            case .symlink(let path, let target):
                let data = Data(target.utf8)
                try archive.addEntry(
                    with: path, type: .symlink, uncompressedSize: Int64(data.count), compressionMethod: .none
                ) { position, size in data.subdata(in: Int(position)..<Int(position) + size) }
            }
        }
        return archive.data!
    }
}
