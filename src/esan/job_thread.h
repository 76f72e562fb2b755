// One thread that runs queued jobs in order, for work that may block for
// long (a mirror's writes the peer did not take wait for fencing there), so
// it never holds up a shared pool whose other jobs it might wait for.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

namespace vcube::esan {

class job_thread {
 public:
  job_thread() : thread_([this] { run(); }) {}
  // Runs the jobs queued so far, then ends.
  ~job_thread() {
    {
      std::lock_guard lock(mutex_);
      is_stopping_ = true;
      changed_.notify_all();
    }
    thread_.join();
  }
  job_thread(const job_thread&) = delete;
  job_thread& operator=(const job_thread&) = delete;

  void post(std::function<void()> job) {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
    changed_.notify_all();
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (true) {
      changed_.wait(lock, [&] { return !jobs_.empty() || is_stopping_; });
      if (jobs_.empty())
        return;
      std::function<void()> job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::function<void()>> jobs_;
  bool is_stopping_ = false;
  std::thread thread_;  // last: starts once the fields above exist
};

}  // namespace vcube::esan
