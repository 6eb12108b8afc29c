#pragma once
// batch_awaiter: `co_await c.exec(b)` on a cluster (cluster/client.hpp). Sends every entry of a
// uredis::batch (client/batch.hpp) to the node serving its slot (cluster_client::exec(batch)):
// one send per node, the nodes in parallel, redirects followed per entry; resumes once every
// entry has its result, with the batch's results in push order (a span over them; they stay in
// the batch, which must outlive the co_await).
//
// Like the single server's batch_awaiter: nothing is allocated per entry once the batch's
// buffers have grown, and the coroutine is resumed from the reactor's completion dispatch (or
// not suspended at all when every entry completed while being sent: all refused).

#include <coroutine>
#include <span>

#include "uredis/client/batch.hpp"
#include "uredis/cluster/cluster_client.hpp"
#include "uredis/proto/exec_options.hpp"
#include "uredis/result.hpp"

namespace uredis::cluster {

template <class Response>
class [[nodiscard]] batch_awaiter {
 public:
  batch_awaiter(cluster_client& c, batch<Response>& b, const exec_options& options) noexcept
      : client_(&c), batch_(&b), options_(options) {}
  batch_awaiter(const batch_awaiter&) = delete;
  batch_awaiter& operator=(const batch_awaiter&) = delete;

  bool await_ready() const noexcept { return batch_->empty(); }
  /// Sends; false (do not suspend) when every entry completed meanwhile.
  bool await_suspend(std::coroutine_handle<> awaiting) {
    awaiting_ = awaiting;
    return !client_->exec(*batch_, {&resume, this}, options_);
  }
  std::span<result<Response>> await_resume() noexcept { return batch_->results(); }

 private:
  static void resume(void* self) { static_cast<batch_awaiter*>(self)->awaiting_.resume(); }

  cluster_client* client_;
  batch<Response>* batch_;
  exec_options options_;
  std::coroutine_handle<> awaiting_;
};

}  // namespace uredis::cluster
