// TLS credentials: the process-wide caches of credentials and priorities, and the files pcj
// reads for them (each open and read reported to an observer).
#include <algorithm>
#include <array>
#include <cerrno>
#include <map>
#include <mutex>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pcj/error.hpp"
#include "tls_internal.hpp"

namespace pcj::detail {

namespace {

// verify, ca_file, ca_dir, client_cert_file, client_key_file: every field that changes what
// gnutls_certificate_credentials_t holds.
using CredentialsKey = std::tuple<bool, std::string, std::string, std::string, std::string>;

// Both caches live until the process exits: a process uses a handful of configurations, and
// what they hold is exactly what must not be reloaded per connection (the system bundle costs
// tens of milliseconds). Sessions keep their own references (shared_ptr for credentials,
// GnuTLS's reference count for priorities), so the order of destruction at exit is harmless.
struct Cache {
    std::mutex mutex;
    std::map<CredentialsKey, std::shared_ptr<TlsCredentials>> credentials;
    std::map<std::string, gnutls_priority_t> priorities;

    Cache() = default;
    Cache(const Cache&) = delete;
    Cache& operator=(const Cache&) = delete;
    ~Cache() {
        for (auto& entry : priorities) {
            gnutls_priority_deinit(entry.second);
        }
    }
};

Cache& cache() {
    static Cache instance;
    return instance;
}

} // namespace

std::string tls_quoted(std::string_view text) {
    // Built by appending: GCC 12 warns (-Wrestrict, a false positive) on the '+' chain at -O3.
    std::string out;
    out.reserve(text.size() + 2);
    out.append(1, '"').append(text).append(1, '"');
    return out;
}

namespace {

// The caller holds the cache mutex.
gnutls_priority_t priority_locked(Cache& c, const std::string& text) {
    auto found = c.priorities.find(text);
    if (found != c.priorities.end()) {
        return found->second;
    }
    const std::string effective = text.empty() ? "NORMAL" : text;
    gnutls_priority_t priority = nullptr;
    const char* error_at = nullptr;
    int ret = gnutls_priority_init(&priority, effective.c_str(), &error_at);
    if (ret < 0) {
        std::string where = error_at != nullptr ? " at " + tls_quoted(error_at) : std::string();
        throw Error("TLS priority string " + tls_quoted(effective) + " is invalid" + where + ": " +
                    gnutls_strerror(ret));
    }
    c.priorities.emplace(text, priority);
    return priority;
}

} // namespace

gnutls_priority_t tls_priority(const std::string& text) {
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    return priority_locked(c, text);
}

namespace {

// GnuTLS says only "Error while reading file"; the system says why.
void require_readable(std::string_view what, const std::string& path) {
    if (::access(path.c_str(), R_OK) != 0) {
        std::string reason = std::error_code(errno, std::generic_category()).message();
        throw Error("TLS " + std::string(what) + " " + tls_quoted(path) + ": " + reason);
    }
}

// Returns how many certificates a trust loader added; throws when it failed or added none.
unsigned checked_count(std::string_view what, const std::string& path, int ret) {
    if (ret < 0) {
        throw Error("TLS " + std::string(what) + " " + tls_quoted(path) + ": " +
                    gnutls_strerror(ret));
    }
    if (ret == 0) {
        throw Error("TLS " + std::string(what) + " " + tls_quoted(path) + ": no certificate found");
    }
    return static_cast<unsigned>(ret);
}

} // namespace

// ---- credentials ---------------------------------------------------------------------------

// The contents of the files a set of options names, read by pcj before GnuTLS sees them.
struct CredentialFiles {
    std::string ca_file;
    std::vector<std::pair<std::string, std::string>> ca_dir; // path, contents
    std::string client_cert;
    std::string client_key;
};

namespace {

void report(const TlsCredentials::FileObserver& observer, Code code, const std::string& path,
            std::string_view purpose, std::uint64_t bytes = 0, std::uint64_t total = 0) {
    if (!observer) {
        return;
    }
    SocketRecord record;
    record.code = code;
    record.source = Source::file;
    record.name = path;
    record.purpose = std::string(purpose);
    record.bytes = bytes;
    record.total = total;
    observer(record);
}

std::string errno_text(int error) {
    return std::error_code(error, std::generic_category()).message();
}

// Reads a whole file, reporting the open, its success and each read.
std::string read_whole_file(std::string_view what, const std::string& path,
                            std::string_view purpose,
                            const TlsCredentials::FileObserver& observer) {
    report(observer, Code::open_file, path, purpose);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        const int error = errno;
        throw Error("TLS " + std::string(what) + " " + tls_quoted(path) + ": " + errno_text(error));
    }
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    report(observer, Code::file_opened, path, purpose);
    std::string data;
    std::array<char, 16384> buffer;
    for (;;) {
        const ssize_t n = ::read(fd, buffer.data(), buffer.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            const int error = errno;
            throw Error("TLS " + std::string(what) + " " + tls_quoted(path) + ": " +
                        errno_text(error));
        }
        if (n == 0) {
            return data;
        }
        data.append(buffer.data(), static_cast<std::size_t>(n));
        report(observer, Code::data_read, path, purpose, static_cast<std::uint64_t>(n),
               data.size());
    }
}

// As GnuTLS's own trust_dir: every regular file whose name does not start with '.', each
// loaded if it can be (a file that cannot be read or parsed is skipped).
std::vector<std::pair<std::string, std::string>>
read_directory(const std::string& dir, const TlsCredentials::FileObserver& observer) {
    DIR* handle = ::opendir(dir.c_str());
    if (handle == nullptr) {
        const int error = errno;
        throw Error("TLS CA directory " + tls_quoted(dir) + ": " + errno_text(error));
    }
    std::vector<std::string> names;
    while (const dirent* entry = ::readdir(handle)) {
        if (entry->d_name[0] != '.') {
            names.emplace_back(entry->d_name);
        }
    }
    ::closedir(handle);
    std::sort(names.begin(), names.end());
    std::vector<std::pair<std::string, std::string>> files;
    for (const auto& name : names) {
        std::string path = dir + "/" + name;
        struct stat info {};
        if (::stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) {
            continue;
        }
        try {
            std::string data = read_whole_file("CA file", path, "ca_dir", observer);
            files.emplace_back(std::move(path), std::move(data));
        } catch (const Error&) {
            // skipped, as GnuTLS skips a file it cannot load
        }
    }
    return files;
}

CredentialFiles read_credential_files(const TlsOptions& options,
                                      const TlsCredentials::FileObserver& observer) {
    CredentialFiles files;
    if (options.verify && !options.ca_file.empty()) {
        files.ca_file = read_whole_file("CA file", options.ca_file, "ca_file", observer);
    }
    if (options.verify && !options.ca_dir.empty()) {
        files.ca_dir = read_directory(options.ca_dir, observer);
    }
    if (!options.client_cert_file.empty() && !options.client_key_file.empty()) {
        files.client_cert = read_whole_file("client certificate", options.client_cert_file,
                                            "client_cert", observer);
        files.client_key =
            read_whole_file("client key", options.client_key_file, "client_key", observer);
    }
    return files;
}

gnutls_datum_t datum(const std::string& data) {
    return gnutls_datum_t{reinterpret_cast<unsigned char*>(const_cast<char*>(data.data())),
                          static_cast<unsigned>(data.size())};
}

} // namespace

void TlsCredentials::Impl::load_trust(const TlsOptions& options, const CredentialFiles& files) {
    if (options.ca_file.empty() && options.ca_dir.empty()) {
        int ret = gnutls_certificate_set_x509_system_trust(credentials);
        if (ret < 0) {
            throw Error(std::string("TLS: cannot load the system trust store: ") +
                        gnutls_strerror(ret));
        }
        if (ret == 0) {
            throw Error("TLS: the system trust store holds no certificate (set a CA file)");
        }
        trusted += static_cast<unsigned>(ret);
        return;
    }
    if (!options.ca_file.empty()) {
        const gnutls_datum_t ca = datum(files.ca_file);
        int ret = gnutls_certificate_set_x509_trust_mem(credentials, &ca, GNUTLS_X509_FMT_PEM);
        trusted += checked_count("CA file", options.ca_file, ret);
    }
    if (!options.ca_dir.empty()) {
        int total = 0;
        for (const auto& file : files.ca_dir) {
            const gnutls_datum_t ca = datum(file.second);
            const int ret =
                gnutls_certificate_set_x509_trust_mem(credentials, &ca, GNUTLS_X509_FMT_PEM);
            total += ret > 0 ? ret : 0;
        }
        trusted += checked_count("CA directory", options.ca_dir, total);
    }
}

void TlsCredentials::Impl::load_client_certificate(const TlsOptions& options,
                                                   const CredentialFiles& files) {
    if (options.client_cert_file.empty() && options.client_key_file.empty()) {
        return;
    }
    const gnutls_datum_t cert = datum(files.client_cert);
    const gnutls_datum_t key = datum(files.client_key);
    int ret = gnutls_certificate_set_x509_key_mem2(credentials, &cert, &key, GNUTLS_X509_FMT_PEM,
                                                   nullptr, 0);
    if (ret < 0) {
        throw Error("TLS client certificate " + tls_quoted(options.client_cert_file) +
                    " with key " + tls_quoted(options.client_key_file) + ": " +
                    gnutls_strerror(ret));
    }
}

void TlsCredentials::check(const TlsOptions& options) {
    if (options.verify && !options.ca_file.empty()) {
        require_readable("CA file", options.ca_file);
    }
    if (options.verify && !options.ca_dir.empty()) {
        require_readable("CA directory", options.ca_dir);
    }
    if (!options.client_cert_file.empty() || !options.client_key_file.empty()) {
        if (options.client_cert_file.empty() || options.client_key_file.empty()) {
            throw Error(
                "TLS client certificate: both a certificate file and a key file are needed");
        }
        require_readable("client certificate", options.client_cert_file);
        require_readable("client key", options.client_key_file);
    }
    tls_priority(options.priority);
}

std::shared_ptr<TlsCredentials> TlsCredentials::get(const TlsOptions& options,
                                                    const FileObserver& observer) {
    // Without verification no trust store is needed: do not pay for loading one.
    CredentialsKey key{options.verify, options.verify ? options.ca_file : std::string(),
                       options.verify ? options.ca_dir : std::string(), options.client_cert_file,
                       options.client_key_file};
    Cache& c = cache();
    {
        std::lock_guard<std::mutex> lock(c.mutex);
        priority_locked(c, options.priority); // a bad priority string is a configuration error
        auto found = c.credentials.find(key);
        if (found != c.credentials.end()) {
            return found->second;
        }
    }
    if (!options.client_cert_file.empty() || !options.client_key_file.empty()) {
        check(options); // one without the other
    }
    // The files are read without the lock: the observer runs the application's handlers.
    const CredentialFiles files = read_credential_files(options, observer);
    // Loading under the lock makes concurrent first uses wait for one load (the system store
    // costs tens of milliseconds) instead of racing; whoever read the files too uses it.
    std::lock_guard<std::mutex> lock(c.mutex);
    auto found = c.credentials.find(key);
    if (found != c.credentials.end()) {
        return found->second;
    }
    auto impl = std::make_unique<Impl>();
    int ret = gnutls_certificate_allocate_credentials(&impl->credentials);
    if (ret < 0) {
        throw Error(std::string("TLS: cannot allocate credentials: ") + gnutls_strerror(ret));
    }
    if (options.verify) {
        impl->load_trust(options, files);
    }
    impl->load_client_certificate(options, files);
    std::shared_ptr<TlsCredentials> credentials(new TlsCredentials(std::move(impl)));
    c.credentials.emplace(std::move(key), credentials);
    return credentials;
}

TlsCredentials::TlsCredentials(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TlsCredentials::~TlsCredentials() = default;

std::size_t TlsCredentials::trusted_count() const {
    return impl_->trusted;
}

} // namespace pcj::detail
