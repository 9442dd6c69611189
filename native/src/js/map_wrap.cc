// N-API layer: MapHandle (lookups, updates, deletes, key walks, batch pages, BTF types) and the
// run-time stats handle.
#include "../core/maps.h"
#include "binding.h"

namespace binding {

Napi::Object map_info_to_js(Napi::Env env, const core::MapInfo &m)
{
	Napi::Object o = Napi::Object::New(env);
	o.Set("id", m.id);
	o.Set("name", m.name);
	o.Set("type", m.type);
	o.Set("keySize", m.key_size);
	o.Set("valueSize", m.value_size);
	o.Set("maxEntries", m.max_entries);
	o.Set("flags", m.flags);
	o.Set("btfId", m.btf_id);
	o.Set("btfKeyTypeId", m.btf_key_type_id);
	o.Set("btfValueTypeId", m.btf_value_type_id);
	return o;
}

namespace {

[[noreturn]] void closed_error(Napi::Env env)
{
	throw to_js_error(env, EBADF, "handle is closed");
}

class MapHandleWrap : public Napi::ObjectWrap<MapHandleWrap> {
public:
	static Napi::Function define(Napi::Env env)
	{
		return DefineClass(env, "MapHandle",
				   {InstanceAccessor<&MapHandleWrap::info>("info"),
				    InstanceAccessor<&MapHandleWrap::user_value_size>("userValueSize"),
				    InstanceMethod<&MapHandleWrap::lookup>("lookup"),
				    InstanceMethod<&MapHandleWrap::update>("update"),
				    InstanceMethod<&MapHandleWrap::remove>("delete"),
				    InstanceMethod<&MapHandleWrap::next_key>("nextKey"),
				    InstanceMethod<&MapHandleWrap::lookup_batch>("lookupBatch"),
				    InstanceMethod<&MapHandleWrap::btf_types>("btfTypes"),
				    InstanceMethod<&MapHandleWrap::close>("close")});
	}
	MapHandleWrap(const Napi::CallbackInfo &info) : Napi::ObjectWrap<MapHandleWrap>(info)
	{
		m_ = std::move(external_arg<std::unique_ptr<core::MapHandle>>(
			info, "MapHandle cannot be constructed; use openMap()"));
		info_ = m_->info();
		user_value_size_ = m_->user_value_size();
	}

private:
	core::MapHandle &map()
	{
		if (!m_ || m_->closed())
			closed_error(Env());
		return *m_;
	}

	Napi::Value info(const Napi::CallbackInfo &) { return map_info_to_js(Env(), info_); }
	Napi::Value user_value_size(const Napi::CallbackInfo &)
	{
		return Napi::Number::New(Env(), user_value_size_);
	}

	// Key buffers must match the map exactly; a zero-size key (queue, stack) is passed as NULL.
	const uint8_t *key_arg(Napi::Value v, const char *usage, bool nullable = false)
	{
		if (nullable && (v.IsNull() || v.IsUndefined()))
			return nullptr;
		Napi::Buffer<uint8_t> b = get_buffer(Env(), v, usage);
		if (b.Length() != info_.key_size)
			type_error(Env(), "key must be " + std::to_string(info_.key_size) + " bytes, got " +
						  std::to_string(b.Length()));
		return info_.key_size ? b.Data() : nullptr;
	}

	Napi::Value lookup(const Napi::CallbackInfo &info)
	{
		return guarded(Env(), [&]() -> Napi::Value {
			core::MapHandle &m = map();
			const uint8_t *key = key_arg(info[0], "Usage: lookup(key: Buffer)");
			std::vector<uint8_t> value;
			bool found = guarded(Env(), [&] { return m.lookup(key, value); });
			return found ? (Napi::Value)to_buffer(Env(), value) : Env().Null();
		});
	}

	void update(const Napi::CallbackInfo &info)
	{
		guarded(Env(), [&] {
			const char *usage = "Usage: update(key: Buffer, value: Buffer, flags: number)";
			core::MapHandle &m = map();
			const uint8_t *key = key_arg(info[0], usage);
			Napi::Buffer<uint8_t> value = get_buffer(Env(), info[1], usage);
			if (value.Length() != user_value_size_)
				type_error(Env(), "value must be " + std::to_string(user_value_size_) + " bytes, got " +
							  std::to_string(value.Length()));
			uint32_t flags = info[2].IsUndefined() ? 0 : get_u32(Env(), info[2], usage);
			guarded(Env(), [&] { m.update(key, value.Data(), flags); });
		});
	}

	Napi::Value remove(const Napi::CallbackInfo &info)
	{
		return guarded(Env(), [&]() -> Napi::Value {
			core::MapHandle &m = map();
			const uint8_t *key = key_arg(info[0], "Usage: delete(key: Buffer)");
			return Napi::Boolean::New(Env(), guarded(Env(), [&] { return m.remove(key); }));
		});
	}

	Napi::Value next_key(const Napi::CallbackInfo &info)
	{
		return guarded(Env(), [&]() -> Napi::Value {
			core::MapHandle &m = map();
			const uint8_t *key = key_arg(info[0], "Usage: nextKey(key: Buffer | null)", true);
			std::vector<uint8_t> next;
			bool found = guarded(Env(), [&] { return m.next_key(key, next); });
			return found ? (Napi::Value)to_buffer(Env(), next) : Env().Null();
		});
	}

	Napi::Value lookup_batch(const Napi::CallbackInfo &info)
	{
		return guarded(Env(), [&]() -> Napi::Value {
			const char *usage = "Usage: lookupBatch(maxCount: number, cursor?: Buffer)";
			core::MapHandle &m = map();
			uint32_t max = get_u32(Env(), info[0], usage);
			if (max == 0)
				type_error(Env(), usage);
			std::vector<uint8_t> cursor;
			bool has_cursor = !info[1].IsUndefined() && !info[1].IsNull();
			if (has_cursor) {
				Napi::Buffer<uint8_t> b = get_buffer(Env(), info[1], usage);
				cursor.assign(b.Data(), b.Data() + b.Length());
			}
			core::BatchRead r = guarded(Env(), [&] {
				return m.lookup_batch(max, has_cursor ? &cursor : nullptr);
			});
			Napi::Object o = Napi::Object::New(Env());
			o.Set("keys", to_buffer(Env(), r.keys));
			o.Set("values", to_buffer(Env(), r.values));
			o.Set("count", r.count);
			o.Set("next", r.has_next ? (Napi::Value)to_buffer(Env(), r.next) : Env().Undefined());
			return o;
		});
	}

	Napi::Value btf_types(const Napi::CallbackInfo &info)
	{
		return guarded(Env(), [&]() -> Napi::Value {
			core::MapHandle &m = map();
			bool has_key = false, has_value = false;
			core::BtfNode key, value;
			guarded(Env(), [&] { m.btf_types(has_key, key, has_value, value); });
			Napi::Object o = Napi::Object::New(Env());
			o.Set("key", has_key ? btf_to_js(Env(), key) : Env().Null());
			o.Set("value", has_value ? btf_to_js(Env(), value) : Env().Null());
			return o;
		});
	}

	void close(const Napi::CallbackInfo &info) { m_.reset(); }

	std::unique_ptr<core::MapHandle> m_;
	core::MapInfo info_;
	uint32_t user_value_size_ = 0;
};

class StatsWrap : public Napi::ObjectWrap<StatsWrap> {
public:
	static Napi::Function define(Napi::Env env)
	{
		return DefineClass(env, "StatsHandle", {InstanceMethod<&StatsWrap::close>("close")});
	}
	StatsWrap(const Napi::CallbackInfo &info) : Napi::ObjectWrap<StatsWrap>(info)
	{
		fd_.reset(external_arg<int>(info, "StatsHandle cannot be constructed; use enableStats()"));
	}

private:
	void close(const Napi::CallbackInfo &) { fd_.reset(); }
	core::Fd fd_;
};

} // namespace

Napi::Function define_map_handle_class(Napi::Env env)
{
	return MapHandleWrap::define(env);
}

Napi::Function define_stats_class(Napi::Env env)
{
	return StatsWrap::define(env);
}

} // namespace binding
