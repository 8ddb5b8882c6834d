// Informer benchmark: memory of a cache of 10,000 objects of about 1 KiB,
// and events per second through an informer. The API server is a
// `remedyctl sandbox` child process, so this process's memory is the
// client's alone. See bench/README.md for the workload and figures.
//
// usage: informer_bench PATH/TO/remedyctl [--objects N] [--events N]
#include "kube/informer.h"
#include "kube/rest_client.h"
#include "process_memory.h"
#include "sandbox_process.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace remedy;
using bench::heapInUse;
using bench::rssKiB;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

namespace {

json configMap(const std::string& name, int i) {
  // About 1 KiB of JSON once the server adds its metadata.
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata",
           {{"name", name}, {"labels", {{"app", "bench"}, {"shard", std::to_string(i % 16)}}}}},
          {"data", {{"payload", std::string(700, 'a' + i % 26)}, {"index", std::to_string(i)}}}};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: informer_bench PATH/TO/remedyctl [--objects N] [--events N]\n");
    return 2;
  }
  int objects = 10000, events = 20000;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string f = argv[i];
    if (f == "--objects") objects = std::atoi(argv[i + 1]);
    if (f == "--events") events = std::atoi(argv[i + 1]);
  }
  bench::SandboxProcess sandbox(argv[1]);
  if (!sandbox.config()) return 1;
  const kube::Config* config = &*sandbox.config();
  auto client = kube::RestClient::fromConfig(*config);
  auto writer = kube::RestClient::fromConfig(*config);
  if (!client.ok() || !writer.ok()) return 1;

  std::printf("informer benchmark (sandbox child process over HTTPS)\n");
  {
    std::vector<std::thread> threads;
    std::atomic<int> next{0};
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        auto c = kube::RestClient::fromConfig(*config);
        for (int i; (i = next++) < objects;) {
          (*c)->create(kube::resources::configMaps(), "default",
                       configMap("cm-" + std::to_string(i), i));
        }
      });
    }
    for (auto& t : threads) t.join();
  }

  malloc_trim(0);
  long before = rssKiB();
  size_t heapBefore = heapInUse();
  std::atomic<long> received{0};
  kube::Informer informer(**client, kube::resources::configMaps(), {"default", {}});
  informer.addEventHandler({[&](const json&, bool) { ++received; },
                            [&](const json&, const json&) { ++received; },
                            [&](const json&, bool) { ++received; }});
  auto start = Clock::now();
  informer.start();
  informer.waitForSync(std::chrono::minutes(5));
  double syncSecs = std::chrono::duration<double>(Clock::now() - start).count();
  // The reflector frees the parsed list only after it has handed the items
  // over; measure once it is watching.
  while (informer.reflector().watches() < 1)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  malloc_trim(0);  // give back what the initial list's parsing freed
  long after = rssKiB();
  size_t heapAfter = heapInUse();
  size_t cached = informer.cache().size();
  size_t text = informer.cache().textBytes();
  double live = double(heapAfter - heapBefore);
  std::printf(
      "CACHE  %zu objects, %.1f MiB of JSON: live heap +%.1f MiB (%.0f bytes per object, "
      "%.2fx the JSON), RSS +%.1f MiB; initial list and sync %.2f s\n",
      cached, text / 1048576.0, live / 1048576.0, live / double(cached ? cached : 1),
      live / double(text ? text : 1), (after - before) / 1024.0, syncSecs);

  // Events: merge patches from 4 writers; count what the handlers receive.
  long base = received.load();
  std::atomic<int> failedWrites{0};
  std::mutex errorMu;
  std::string firstError;
  start = Clock::now();
  {
    std::vector<std::thread> threads;
    std::atomic<int> next{0};
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        auto c = kube::RestClient::fromConfig(*config);
        kube::PatchOptions po;
        po.type = kube::PatchType::Merge;
        for (int i; (i = next++) < events;) {
          json patch = {{"data", {{"index", "u" + std::to_string(i)}}}};
          auto r = (*c)->patch(kube::resources::configMaps(), "default",
                               "cm-" + std::to_string(i % objects), patch.dump(), po);
          if (!r.ok()) {
            ++failedWrites;
            std::lock_guard<std::mutex> lock(errorMu);
            if (firstError.empty()) firstError = r.status().toString();
          }
        }
      });
    }
    for (auto& t : threads) t.join();
  }
  double writeSecs = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("WRITES %d merge patches from 4 clients in %.2f s (%.0f/s), %d failed %s\n", events,
              writeSecs, events / writeSecs, failedWrites.load(), firstError.c_str());
  auto deadline = Clock::now() + std::chrono::seconds(60);
  while (received.load() - base < events && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf(
      "EVENTS %ld of %d updates delivered to the handler in %.2f s: %.0f events/s (writes "
      "included)\n",
      received.load() - base, events, secs, (received.load() - base) / secs);
  if (received.load() - base < events) {
    std::printf("reflector: %d watches, last resourceVersion %s, last error: %s\n",
                informer.reflector().watches(),
                informer.reflector().lastSyncResourceVersion().c_str(),
                informer.reflector().lastError().toString().c_str());
  }
  informer.stop();
  return 0;
}
